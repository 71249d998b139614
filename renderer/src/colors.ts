// Text colours that stay readable (WCAG AA, which the e2e axe scan checks) on the light and the dark
// background: Mantine's plain `c="orange"` (shade 6 on white) is not. CSS light-dark() follows the
// colour scheme Mantine sets on the page.
const both = (light: string, dark: string) => `light-dark(${light}, ${dark})`;
const shade = (c: string, l: number, d: number) => both(`var(--mantine-color-${c}-${l})`, `var(--mantine-color-${c}-${d})`);

export const TEXT = {
  muted: shade('gray', 7, 4),
  info: shade('blue', 9, 3),
  warning: both('#a84300', 'var(--mantine-color-orange-3)'),
  success: both('#1e6b2e', 'var(--mantine-color-green-3)'),
  error: shade('red', 9, 3),
};
