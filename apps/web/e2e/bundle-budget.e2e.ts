import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { webDist } from './helpers/server.ts';
import { buildSpa } from './helpers/spa.ts';

// What the first page load costs: every script, preload and stylesheet index.html names.
const BUDGET_GZIP = 250 * 1024;

const gzipSize = async (file: string) => gzipSync(await readFile(file), { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The asset paths index.html makes the browser fetch before the first route renders. */
function initialAssets(html: string): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
    const tag = match[0];
    const ref = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
    if (!ref || !/\.(?:js|css)$/.test(ref)) continue;
    if (tag.startsWith('<link') && !/rel="(?:stylesheet|modulepreload)"/.test(tag)) continue;
    found.add(ref.replace(/^\//, ''));
  }
  return [...found];
}

beforeAll(async () => {
  await buildSpa();
});

describe('bundle budget', () => {
  it('keeps the initial route under 250 KB gzip and the chart library in a chunk of its own', async () => {
    const html = await readFile(path.join(webDist, 'index.html'), 'utf8');
    const initial = initialAssets(html);
    expect(initial.some((name) => name.endsWith('.js'))).toBe(true);
    let total = 0;
    for (const name of initial) {
      const size = await gzipSize(path.join(webDist, name));
      total += size;
      console.log(`initial ${name}: ${kb(size)} gzip`);
    }
    console.log(`initial route total: ${kb(total)} gzip (budget ${kb(BUDGET_GZIP)})`);
    expect(total).toBeLessThan(BUDGET_GZIP);

    // The chart chunk exists, holds Chart.js (one of its plugin hook names), and nothing the first load fetches does.
    const assets = await readdir(path.join(webDist, 'assets'));
    const chart = assets.filter((name) => /^audit-chart-.*\.js$/.test(name));
    expect(chart).toHaveLength(1);
    const chartFile = `assets/${chart[0] ?? ''}`;
    expect(await readFile(path.join(webDist, chartFile), 'utf8')).toMatch(/beforeDatasetsDraw/);
    expect(initial).not.toContain(chartFile);
    for (const name of initial.filter((n) => n.endsWith('.js'))) {
      expect(await readFile(path.join(webDist, name), 'utf8'), name).not.toMatch(/beforeDatasetsDraw/);
    }
    console.log(`chart chunk ${chartFile}: ${kb(await gzipSize(path.join(webDist, chartFile)))} gzip`);
  });
});
