// The report as one self-contained HTML file: the view as JSON, and the page
// script and styles (report/app, bundled with Plot and d3-flame-graph by
// `npm run build:report` into report/build) inlined, so it opens from disk
// and asks the network for nothing.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportView } from './view-types.js';

/** report/build above this module: the same from the sources (tsx) and from dist/. */
function reportBundleDirectory(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'report', 'build');
    if (existsSync(path.join(candidate, 'main.js'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('the report page is not built (no report/build/main.js): run npm run build');
  }
}

/** Text that cannot end the <script> or <style> element it sits in. */
const inElement = (text: string, tag: string) => text.replaceAll(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');

export function reportHtml(view: ReportView, bundleDir = reportBundleDirectory()): string {
  const script = readFileSync(path.join(bundleDir, 'main.js'), 'utf8');
  const style = readFileSync(path.join(bundleDir, 'main.css'), 'utf8');
  const data = JSON.stringify(view).replaceAll('<', '\\u003c');
  const title = view.title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}: Loupe report</title>
<style>${inElement(style, 'style')}</style>
</head>
<body>
<script id="loupe-report" type="application/json">${data}</script>
<script>${inElement(script, 'script')}</script>
</body>
</html>
`;
}
