/** Where a notice's picture goes in a region of `width`×`height`: beside the text in a wide region, below it otherwise. */
export function noticePictureBox(width: number, height: number, padding: number): { side: 'right' | 'below'; text: { width: number; height: number }; picture: { x: number; y: number; width: number; height: number } } {
  if (width >= height * 1.2) {
    const pw = Math.round(width * 0.4);
    const tw = width - pw;
    return { side: 'right', text: { width: tw, height }, picture: { x: tw, y: padding, width: Math.max(1, pw - padding), height: Math.max(1, height - 2 * padding) } };
  }
  const ph = Math.round(height * 0.4);
  const th = height - ph;
  return { side: 'below', text: { width, height: th }, picture: { x: padding, y: th, width: Math.max(1, width - 2 * padding), height: Math.max(1, ph - padding) } };
}
