// Minimal typings for the playlist parsers the live tests use (the packages ship none).
declare module 'm3u8-parser' {
  export class Parser {
    push(text: string): void;
    end(): void;
    manifest: {
      targetDuration?: number;
      partTargetDuration?: number;
      mediaSequence?: number;
      endList?: boolean;
      serverControl?: { canBlockReload?: boolean; partHoldBack?: number; holdBack?: number };
      preloadSegment?: { preloadHints?: { type: string; uri: string }[]; parts?: { duration: number; uri: string }[] };
      parts?: { duration: number; uri: string; independent?: boolean }[];
      segments: { duration: number; uri: string; dateTimeString?: string; map?: { uri: string }; parts?: { duration: number; uri: string; independent?: boolean }[] }[];
      /** A multivariant playlist's variants. */
      playlists?: { uri: string; attributes: { BANDWIDTH?: number; RESOLUTION?: { width: number; height: number }; CODECS?: string } }[];
    };
  }
}
declare module 'mpd-parser' {
  export function parse(text: string, options: { manifestUri: string }): {
    playlists: { attributes: { CODECS?: string; RESOLUTION?: { width: number; height: number } }; segments: { duration: number; number: number; resolvedUri: string; map?: { resolvedUri: string } }[] }[];
    mediaGroups: { AUDIO: Record<string, Record<string, { playlists: { segments: { resolvedUri: string }[] }[] }>> };
  };
}
