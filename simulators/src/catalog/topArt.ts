import { logoSvg } from './art.js';
import type { CatalogEntry } from './types.js';

/**
 * Procedural TOP-view pack art (what a camera above a chest cooler sees), SVG in millimetre units,
 * `widthMm × depthMm`. Every SKU differs in at least one of: cap / lid print colour, the flavour ring
 * (band colour), the brand mark (logo shape + accent) and the lid text (flavour), so top views stay
 * distinguishable within a brand and across look-alike brands. "Up" in the art is the pack's own
 * orientation; scenes rotate it in-plane.
 */
export function packTopSvg(e: CatalogEntry, pxPerMm: number): string {
  const { widthMm: w, depthMm: d, format } = e.pack;
  const inner = format.startsWith('can')
    ? canTop(e, w)
    : format.startsWith('pet')
      ? bottleTop(e, w, false)
      : format.startsWith('glass')
        ? bottleTop(e, w, true)
        : cartonTop(e, w, d);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(w * pxPerMm)}" height="${Math.round(d * pxPerMm)}" ` +
    `viewBox="0 0 ${w} ${d}" preserveAspectRatio="none"><defs>` +
    `<radialGradient id="lid" cx="0.42" cy="0.38" r="0.7"><stop offset="0" stop-color="#f4f4f4"/>` +
    `<stop offset="0.6" stop-color="#b9b9b9"/><stop offset="1" stop-color="#7a7a7a"/></radialGradient>` +
    `<radialGradient id="dome" cx="0.4" cy="0.35" r="0.75"><stop offset="0" stop-color="#fff" stop-opacity="0.45"/>` +
    `<stop offset="0.5" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.35"/></radialGradient>` +
    `</defs>${inner}</svg>`
  );
}

const FONT = `font-family="DejaVu Sans" font-weight="bold"`;

function label(x: number, y: number, size: number, fill: string, s: string, maxW: number): string {
  const est = s.length * size * 0.62;
  const fit = est > maxW ? ` textLength="${maxW.toFixed(2)}" lengthAdjust="spacingAndGlyphs"` : '';
  return `<text x="${x}" y="${y}" font-size="${size}" ${FONT} fill="${fill}" text-anchor="middle"${fit}>${s}</text>`;
}

function canTop(e: CatalogEntry, w: number): string {
  const a = e.art;
  const c = w / 2;
  return (
    // Shoulder of the can body (print colour), flavour ring, then the silver lid with its rim.
    `<circle cx="${c}" cy="${c}" r="${c}" fill="${a.body}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.9}" fill="none" stroke="${a.band}" stroke-width="${w * 0.07}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.78}" fill="url(#lid)" stroke="#8d8d8d" stroke-width="${w * 0.025}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.66}" fill="none" stroke="#9a9a9a" stroke-width="${w * 0.012}"/>` +
    // Brand mark printed on the lid (top), pull tab (centre), flavour text (bottom).
    logoSvg(a.logo, c, c - w * 0.24, w * 0.085, a.accent) +
    `<ellipse cx="${c}" cy="${c + w * 0.02}" rx="${w * 0.1}" ry="${w * 0.16}" fill="#d0d0d0" stroke="#6e6e6e" stroke-width="${w * 0.012}"/>` +
    `<ellipse cx="${c}" cy="${c + w * 0.06}" rx="${w * 0.05}" ry="${w * 0.06}" fill="#8a8a8a"/>` +
    `<circle cx="${c}" cy="${c - w * 0.07}" r="${w * 0.022}" fill="#777"/>` +
    label(c, c + w * 0.31, w * 0.085, a.band === a.body ? '#333' : a.band, a.flavourText, w * 0.5)
  );
}

function bottleTop(e: CatalogEntry, w: number, glass: boolean): string {
  const a = e.art;
  const c = w / 2;
  const capR = glass ? w * 0.2 : w * 0.24;
  // Crown caps have a fluted edge; PET caps have ridges.
  let cap: string;
  if (glass) {
    const pts: string[] = [];
    for (let i = 0; i < 42; i++) {
      const ang = (i * Math.PI) / 21;
      const rr = i % 2 === 0 ? capR : capR * 0.9;
      pts.push(`${(c + rr * Math.cos(ang)).toFixed(2)},${(c + rr * Math.sin(ang)).toFixed(2)}`);
    }
    cap = `<polygon points="${pts.join(' ')}" fill="${a.cap}"/>`;
  } else {
    cap =
      `<circle cx="${c}" cy="${c}" r="${capR}" fill="${a.cap}"/>` +
      `<circle cx="${c}" cy="${c}" r="${capR * 0.95}" fill="none" stroke="#000" stroke-opacity="0.35" ` +
      `stroke-width="${capR * 0.1}" stroke-dasharray="${(capR * 0.12).toFixed(2)} ${(capR * 0.12).toFixed(2)}"/>`;
  }
  return (
    // Bottle shoulder (liquid / glass colour) with the label's top edge as an outer ring.
    `<circle cx="${c}" cy="${c}" r="${c}" fill="${a.body}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.86}" fill="${a.liquid}" fill-opacity="${glass ? 0.95 : 0.85}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.86}" fill="none" stroke="${a.band}" stroke-width="${w * 0.06}"/>` +
    `<circle cx="${c}" cy="${c}" r="${c * 0.86}" fill="url(#dome)"/>` +
    label(c, c + capR + w * 0.13, w * 0.09, '#ffffff', a.flavourText, w * 0.5) +
    cap +
    logoSvg(a.logo, c, c, capR * 0.55, a.accent) +
    `<circle cx="${c}" cy="${c}" r="${capR}" fill="url(#dome)"/>`
  );
}

function cartonTop(e: CatalogEntry, w: number, d: number): string {
  const a = e.art;
  const big = e.pack.volumeMl >= 1000;
  if (big) {
    // Gable-top litre carton: two roof panels, the sealed ridge and a screw cap.
    return (
      `<rect width="${w}" height="${d}" fill="${a.body}"/>` +
      `<rect y="${d * 0.47}" width="${w}" height="${d * 0.53}" fill="#000" fill-opacity="0.12"/>` +
      `<rect y="${d * 0.44}" width="${w}" height="${d * 0.06}" fill="${a.band}"/>` +
      logoSvg(a.logo, w * 0.25, d * 0.22, w * 0.1, a.accent) +
      label(w * 0.62, d * 0.3, w * 0.13, a.text, a.brandText, w * 0.6) +
      label(w * 0.5, d * 0.82, w * 0.13, a.text, a.flavourText, w * 0.8) +
      `<circle cx="${w * 0.5}" cy="${d * 0.64}" r="${w * 0.12}" fill="${a.cap}" stroke="#000" stroke-opacity="0.3" stroke-width="${w * 0.015}"/>`
    );
  }
  return (
    `<rect width="${w}" height="${d}" fill="${a.body}" stroke="#000" stroke-opacity="0.25" stroke-width="${w * 0.02}"/>` +
    `<rect y="${d * 0.68}" width="${w}" height="${d * 0.32}" fill="${a.band}"/>` +
    logoSvg(a.logo, w * 0.2, d * 0.3, w * 0.11, a.accent) +
    label(w * 0.58, d * 0.38, w * 0.15, a.text, a.brandText, w * 0.6) +
    label(w * 0.5, d * 0.92, w * 0.13, a.text, a.flavourText, w * 0.85) +
    `<circle cx="${w * 0.85}" cy="${d * 0.16}" r="${w * 0.05}" fill="#e8e8e8" stroke="#777" stroke-width="${w * 0.01}"/>`
  );
}
