/** @module web/radio/vite-env — types for Vite's `?worker&url` imports. */
declare module '*?worker&url' {
  const url: string;
  export default url;
}
