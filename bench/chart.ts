/**
 * Renders benchmark results as a small self-contained SVG bar chart (records/s per scenario).
 */
interface ChartInput {
  readonly records: number
  readonly scenarios: ReadonlyArray<{ readonly name: string; readonly recordsPerSecond: number; readonly peakRssMb: number }>
  readonly ratios: { readonly socketOverStdio: number }
}

const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")

export const renderChart = (input: ChartInput): string => {
  const width = 720
  const barHeight = 34
  const left = 200
  const top = 50
  const max = Math.max(1, ...input.scenarios.map((s) => s.recordsPerSecond))
  const height = top + input.scenarios.length * (barHeight + 12) + 40
  const bars = input.scenarios.map((s, i) => {
    const y = top + i * (barHeight + 12)
    const w = Math.max(2, Math.round((s.recordsPerSecond / max) * (width - left - 150)))
    const color = s.name.startsWith("socket") ? "#2b8a3e" : "#1c7ed6"
    return `<text x="${left - 10}" y="${y + barHeight / 2 + 5}" text-anchor="end" font-size="14">${escape(s.name)}</text>` +
      `<rect x="${left}" y="${y}" width="${w}" height="${barHeight}" fill="${color}" rx="3"/>` +
      `<text x="${left + w + 8}" y="${y + barHeight / 2 + 5}" font-size="13">${Math.round(s.recordsPerSecond / 1000)} k rec/s · ${s.peakRssMb} MB</text>`
  }).join("\n  ")
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="20" y="28" font-size="16" font-weight="bold">Sluice: faker → dev-null, ${input.records.toLocaleString("en")} records (socket/stdio ${input.ratios.socketOverStdio}×)</text>
  ${bars}
  <text x="20" y="${height - 12}" font-size="11" fill="#555">records per second (higher is better) · peak RSS of the Sluice process</text>
</svg>
`
}
