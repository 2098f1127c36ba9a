import type { CatalogEntry, LogoShape } from './types.js';

/**
 * Procedural front-view pack art as SVG in millimetre units. The silhouette fills the full SVG
 * width at the body and the full height, so the raster's rectangle is the product's tight box.
 */
export function packSvg(e: CatalogEntry, pxPerMm: number): string {
  const { widthMm: w, heightMm: h, format } = e.pack;
  const inner = format.startsWith('can')
    ? canArt(e, w, h)
    : format.startsWith('pet')
      ? bottleArt(e, w, h, false)
      : format.startsWith('glass')
        ? bottleArt(e, w, h, true)
        : cartonArt(e, w, h);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(w * pxPerMm)}" height="${Math.round(h * pxPerMm)}" ` +
    `viewBox="0 0 ${w} ${h}" preserveAspectRatio="none">` +
    `<defs>` +
    // Horizontal shading fakes a cylinder under cooler lighting.
    `<linearGradient id="cyl" x1="0" x2="1" y1="0" y2="0">` +
    `<stop offset="0" stop-color="#000" stop-opacity="0.45"/><stop offset="0.28" stop-color="#fff" stop-opacity="0.22"/>` +
    `<stop offset="0.4" stop-color="#fff" stop-opacity="0.05"/><stop offset="0.85" stop-color="#000" stop-opacity="0.2"/>` +
    `<stop offset="1" stop-color="#000" stop-opacity="0.5"/></linearGradient>` +
    `<linearGradient id="metal" x1="0" x2="1"><stop offset="0" stop-color="#6b6b6b"/><stop offset="0.3" stop-color="#e6e6e6"/>` +
    `<stop offset="0.7" stop-color="#b0b0b0"/><stop offset="1" stop-color="#5a5a5a"/></linearGradient>` +
    `</defs>${inner}</svg>`
  );
}

const FONT = `font-family="DejaVu Sans" font-weight="bold"`;

function text(x: number, y: number, size: number, fill: string, s: string, maxW: number): string {
  // textLength keeps long names inside the label whatever the glyph widths are.
  const est = s.length * size * 0.62;
  const fit = est > maxW ? ` textLength="${maxW.toFixed(1)}" lengthAdjust="spacingAndGlyphs"` : '';
  return `<text x="${x}" y="${y}" font-size="${size}" ${FONT} fill="${fill}" text-anchor="middle"${fit}>${escapeXml(s)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function logoSvg(shape: LogoShape, cx: number, cy: number, r: number, fill: string): string {
  switch (shape) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
    case 'ring':
      return `<circle cx="${cx}" cy="${cy}" r="${r * 0.8}" fill="none" stroke="${fill}" stroke-width="${r * 0.35}"/>`;
    case 'diamond':
      return `<path d="M${cx} ${cy - r} L${cx + r} ${cy} L${cx} ${cy + r} L${cx - r} ${cy} Z" fill="${fill}"/>`;
    case 'star': {
      const pts: string[] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? r : r * 0.45;
        pts.push(`${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`);
      }
      return `<polygon points="${pts.join(' ')}" fill="${fill}"/>`;
    }
    case 'wave':
      return (
        `<path d="M${cx - r * 1.6} ${cy} C${cx - r * 0.8} ${cy - r * 1.2}, ${cx} ${cy + r * 1.2}, ${cx + r * 1.6} ${cy - r * 0.2}" ` +
        `fill="none" stroke="${fill}" stroke-width="${r * 0.45}" stroke-linecap="round"/>`
      );
    case 'leaf':
      return `<path d="M${cx - r} ${cy + r * 0.6} Q${cx - r} ${cy - r} ${cx + r} ${cy - r} Q${cx + r} ${cy + r * 0.6} ${cx - r} ${cy + r * 0.6} Z" fill="${fill}"/>`;
    case 'bolt':
      return `<path d="M${cx + r * 0.2} ${cy - r} L${cx - r * 0.6} ${cy + r * 0.15} L${cx} ${cy + r * 0.15} L${cx - r * 0.2} ${cy + r} L${cx + r * 0.6} ${cy - r * 0.15} L${cx} ${cy - r * 0.15} Z" fill="${fill}"/>`;
  }
}

function canArt(e: CatalogEntry, w: number, h: number): string {
  const a = e.art;
  const rim = h * 0.07;
  const bandY = h * 0.5;
  const bandH = h * 0.2;
  return (
    `<rect x="0" y="${rim}" width="${w}" height="${h - rim * 1.6}" fill="${a.body}"/>` +
    `<rect x="0" y="${bandY}" width="${w}" height="${bandH}" fill="${a.band}"/>` +
    logoSvg(a.logo, w / 2, h * 0.25, w * 0.16, a.accent) +
    text(w / 2, h * 0.44, w * 0.2, a.text, a.brandText, w * 0.9) +
    text(w / 2, bandY + bandH * 0.62, w * 0.15, a.text, a.flavourText, w * 0.86) +
    text(w / 2, h * 0.84, w * 0.1, a.text, `${e.pack.volumeMl}ml`, w * 0.5) +
    `<rect x="${w * 0.04}" y="0" width="${w * 0.92}" height="${rim}" rx="${rim * 0.4}" fill="url(#metal)"/>` +
    `<rect x="${w * 0.06}" y="${h - rim * 0.7}" width="${w * 0.88}" height="${rim * 0.7}" rx="${rim * 0.3}" fill="url(#metal)"/>` +
    `<rect x="0" y="${rim}" width="${w}" height="${h - rim * 1.6}" fill="url(#cyl)"/>`
  );
}

function bottleArt(e: CatalogEntry, w: number, h: number, glass: boolean): string {
  const a = e.art;
  const capH = glass ? h * 0.04 : h * 0.07;
  const capW = glass ? w * 0.42 : w * 0.46;
  const neckW = glass ? w * 0.36 : w * 0.42;
  const shoulderY = glass ? h * 0.42 : h * 0.26;
  const neckEnd = glass ? h * 0.22 : h * 0.12;
  const cx = w / 2;
  const bodyFill = glass ? a.liquid : a.liquid;
  const path =
    `M${cx - neckW / 2} ${capH} L${cx - neckW / 2} ${neckEnd} ` +
    `C${cx - neckW / 2} ${shoulderY * 0.8}, 0 ${shoulderY * 0.7}, 0 ${shoulderY} ` +
    `L0 ${h - w * 0.08} Q0 ${h} ${w * 0.1} ${h} L${w * 0.9} ${h} Q${w} ${h} ${w} ${h - w * 0.08} ` +
    `L${w} ${shoulderY} C${w} ${shoulderY * 0.7}, ${cx + neckW / 2} ${shoulderY * 0.8}, ${cx + neckW / 2} ${neckEnd} ` +
    `L${cx + neckW / 2} ${capH} Z`;
  const labelY = glass ? h * 0.55 : h * 0.4;
  const labelH = glass ? h * 0.28 : h * 0.34;
  return (
    `<path d="${path}" fill="${bodyFill}" fill-opacity="${glass ? 0.95 : 0.85}" stroke="#000" stroke-opacity="0.25" stroke-width="0.6"/>` +
    `<rect x="0" y="${labelY}" width="${w}" height="${labelH}" fill="${a.body}"/>` +
    `<rect x="0" y="${labelY + labelH * 0.68}" width="${w}" height="${labelH * 0.32}" fill="${a.band}"/>` +
    logoSvg(a.logo, w * 0.2, labelY + labelH * 0.2, w * 0.1, a.accent) +
    text(w * 0.56, labelY + labelH * 0.33, w * 0.16, a.text, a.brandText, w * 0.72) +
    text(w / 2, labelY + labelH * 0.58, w * 0.12, a.text, a.flavourText, w * 0.88) +
    text(w / 2, labelY + labelH * 0.9, w * 0.1, '#ffffff', `${e.pack.volumeMl}ml`, w * 0.5) +
    `<rect x="${cx - capW / 2}" y="0" width="${capW}" height="${capH}" rx="${capW * 0.1}" fill="${a.cap}"/>` +
    `<path d="${path}" fill="url(#cyl)"/>`
  );
}

function cartonArt(e: CatalogEntry, w: number, h: number): string {
  const a = e.art;
  const big = e.pack.volumeMl >= 1000;
  const top = big ? h * 0.12 : h * 0.04;
  const body =
    (big
      ? `<path d="M0 ${top} L${w * 0.5} 0 L${w} ${top} Z" fill="${a.body}" stroke="#000" stroke-opacity="0.2" stroke-width="0.5"/>` +
        `<rect x="${w * 0.3}" y="0" width="${w * 0.4}" height="${h * 0.03}" fill="${a.band}"/>`
      : '') +
    `<rect x="0" y="${top}" width="${w}" height="${h - top}" fill="${a.body}" stroke="#000" stroke-opacity="0.2" stroke-width="0.5"/>` +
    `<path d="M0 ${h * 0.62} Q${w * 0.5} ${h * 0.5} ${w} ${h * 0.6} L${w} ${h} L0 ${h} Z" fill="${a.band}"/>` +
    logoSvg(a.logo, w / 2, top + h * 0.1, w * 0.13, a.accent) +
    text(w / 2, top + h * 0.27, w * 0.17, a.text, a.brandText, w * 0.9) +
    text(w / 2, h * 0.5, w * 0.14, a.text, a.flavourText, w * 0.88) +
    text(w / 2, h * 0.9, w * 0.12, '#ffffff', `${e.pack.volumeMl}ml`, w * 0.6) +
    // Carton sides are flat: a single soft shade on the right edge reads as a box.
    `<rect x="${w * 0.82}" y="${top}" width="${w * 0.18}" height="${h - top}" fill="#000" fill-opacity="0.15"/>`;
  return body;
}
