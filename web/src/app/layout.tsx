import type { Metadata, Viewport } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: "coderunner",
  description: "Write a program in your browser and run it on coderunner.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// Applies the saved or system theme before the first paint (no flash of the wrong theme).
const themeScript = `try{var s=JSON.parse(localStorage.getItem("coderunner.ide.v1")||"{}").settings||{};var t=s.theme;var d=t==="dark"||(t!=="light"&&matchMedia("(prefers-color-scheme: dark)").matches);document.documentElement.classList.toggle("dark",d);document.documentElement.style.colorScheme=d?"dark":"light"}catch(e){}`;

// Static export (API on the same origin): the language list is asked for while the page's
// scripts are still downloading, and the page's own GET /languages gets that answer. Not
// when a key is saved (the answer without it could be a 401), nor in server mode (the
// gateway's session comes first).
const preloadScript = `try{var k=(JSON.parse(localStorage.getItem("coderunner.ide.v1")||"{}").settings||{}).apiKey;if(!k){var l=document.createElement("link");l.rel="preload";l.as="fetch";l.crossOrigin="anonymous";l.href="/languages";document.head.appendChild(l)}}catch(e){}`;
const STATIC_MODE = process.env.NEXT_PUBLIC_CODERUNNER_WEB_MODE !== "server";

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
        {STATIC_MODE && <script dangerouslySetInnerHTML={{ __html: preloadScript }} />}
      </head>
      <body>{children}</body>
    </html>
  );
}
