/**
 * @module web/shared/Header
 * The header every React UI shares (styles in /theme.css): the Airwaves mark, which leads back
 * to the landing page, the app's title, and whatever the app puts on the right.
 */
import type { ReactNode } from 'react';

export function AppHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="aw-header">
      <a className="aw-home" href="/" title="Airwaves: all apps">
        Airwaves
      </a>
      <h1>{title}</h1>
      <span className="aw-spacer" />
      {children}
    </header>
  );
}
