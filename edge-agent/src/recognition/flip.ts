/**
 * Horizontal-flip test-time augmentation for the detector (decision D29).
 *
 * A cooler is left-right symmetric in everything the detector has to judge (packs, gaps, the stack
 * behind a front pack), and the detector was trained on mirrored frames too, so a second look at the
 * mirrored frame is an independent-ish second opinion. Averaging the two sets of maps removes much
 * single-look noise, mostly stray second peaks on one pack (the duplicates that inflate counts); it
 * finds few more packs behind (D29's measurements).
 */

/**
 * Mirrors planar [C, H, W] data left-right into `out` (which must not alias `src`). The recognizer
 * mirrors its detector input while normalising it (toChw); this plain form is what that and the
 * merge of mirrored maps are checked against.
 */
export function mirrorPlanes(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  out: Float32Array = new Float32Array(src.length),
): Float32Array {
  if (src.length !== channels * height * width) throw new Error('mirrorPlanes: size does not match C x H x W');
  if (out === src) throw new Error('mirrorPlanes: out must not be the input');
  for (let row = 0; row < channels * height; row++) {
    const o = row * width;
    for (let x = 0; x < width; x++) out[o + x] = src[o + width - 1 - x]!;
  }
  return out;
}

/**
 * Mean of a [C, H, W] map and the map the same net produced for the mirrored frame, mirrored back.
 * `offsetChannel` holds a sub-cell x offset in [0, 1) from the cell's left edge (CenterNet's dx): in the
 * mirrored frame it is measured from the other edge, so it comes back as 1 - v.
 */
export function mergeMirrored(
  direct: Float32Array,
  mirrored: Float32Array,
  channels: number,
  height: number,
  width: number,
  offsetChannel = -1,
): Float32Array {
  if (direct.length !== channels * height * width || mirrored.length !== direct.length)
    throw new Error('mergeMirrored: maps do not match C x H x W');
  const out = new Float32Array(direct.length);
  for (let c = 0; c < channels; c++) {
    const flipValue = c === offsetChannel;
    for (let y = 0; y < height; y++) {
      const o = (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        const m = mirrored[o + width - 1 - x]!;
        out[o + x] = (direct[o + x]! + (flipValue ? 1 - m : m)) / 2;
      }
    }
  }
  return out;
}
