import Foundation

/// A minimal SVG plotting surface for the report: a plot area with linear axes, ticks,
/// labels, polylines, markers, rectangles and text. Data coordinates map to pixels as
///
///     px = left + (x − x0) / (x1 − x0) · (width − left − right)
///     py = top + (1 − (y − y0) / (y1 − y0)) · (height − top − bottom)
///
/// Produces self-contained `<svg>` markup (no scripts, no external resources).
///
///     var c = SVGChart(width: 480, height: 260, x: (0, 100), y: (0, 1))
///     c.axes(xLabel: "step", yLabel: "loss"); c.line([(0, 0.7), (100, 0.3)], color: "#1f77b4")
///     let svg = c.svg
struct SVGChart {
  static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

  var width: Double
  var height: Double
  var x: (Double, Double)
  var y: (Double, Double)
  var left = 56.0, right = 16.0, top = 20.0, bottom = 40.0
  /// Offset of this plot area inside a larger SVG (small multiples).
  var origin = (0.0, 0.0)
  private(set) var body: [String] = []

  init(width: Double, height: Double, x: (Double, Double), y: (Double, Double)) {
    self.width = width
    self.height = height
    self.x = x.1 > x.0 ? x : (x.0, x.0 + 1)
    self.y = y.1 > y.0 ? y : (y.0, y.0 + 1)
  }

  func px(_ v: Double) -> Double { origin.0 + left + (v - x.0) / (x.1 - x.0) * (width - left - right) }
  func py(_ v: Double) -> Double { origin.1 + top + (1 - (v - y.0) / (y.1 - y.0)) * (height - top - bottom) }

  static func n(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : "0" }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// "Nice" tick values covering [a, b].
  static func ticks(_ a: Double, _ b: Double, count: Int = 5) -> [Double] {
    guard b > a, a.isFinite, b.isFinite else { return [a] }
    let raw = (b - a) / Double(count)
    let mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    var t = Foundation.ceil(a / step) * step
    var out: [Double] = []
    while t <= b + step * 1e-9 {
      out.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    return out
  }

  static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    if abs(v) >= 1000 { return String(format: "%.0f", v) }
    if abs(v) >= 1 { return String(format: "%g", (v * 100).rounded() / 100) }
    return String(format: "%g", Double(String(format: "%.3g", v)) ?? v)
  }

  /// Frame, grid lines, tick labels and axis titles.
  mutating func axes(xLabel: String, yLabel: String, title: String? = nil, yTicks: Bool = true) {
    let (x0, x1, y0, y1) = (px(x.0), px(x.1), py(y.0), py(y.1))
    body.append("<rect x=\"\(SVGChart.n(x0))\" y=\"\(SVGChart.n(y1))\" width=\"\(SVGChart.n(x1 - x0))\" height=\"\(SVGChart.n(y0 - y1))\" fill=\"#fff\" stroke=\"#999\"/>")
    for t in yTicks ? SVGChart.ticks(y.0, y.1) : [] {
      body.append("<path d=\"M\(SVGChart.n(x0)) \(SVGChart.n(py(t)))H\(SVGChart.n(x1))\" stroke=\"#eee\"/>")
      text(SVGChart.label(t), at: (x0 - 4, py(t) + 4), anchor: "end", size: 10)
    }
    for t in SVGChart.ticks(x.0, x.1) {
      body.append("<path d=\"M\(SVGChart.n(px(t))) \(SVGChart.n(y0))v4\" stroke=\"#999\"/>")
      text(SVGChart.label(t), at: (px(t), y0 + 15), anchor: "middle", size: 10)
    }
    text(xLabel, at: ((x0 + x1) / 2, y0 + 30), anchor: "middle", size: 11)
    body.append("<text transform=\"translate(\(SVGChart.n(origin.0 + 13)) \(SVGChart.n((y0 + y1) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">\(SVGChart.escape(yLabel))</text>")
    if let title { text(title, at: ((x0 + x1) / 2, y1 - 6), anchor: "middle", size: 12, bold: true) }
  }

  mutating func line(_ points: [(Double, Double)], color: String, width w: Double = 2, dash: String? = nil) {
    guard let first = points.first else { return }
    var d = "M\(SVGChart.n(px(first.0))) \(SVGChart.n(py(first.1)))"
    for p in points.dropFirst() { d += "L\(SVGChart.n(px(p.0))) \(SVGChart.n(py(p.1)))" }
    body.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(w)\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
  }

  mutating func markers(_ points: [(Double, Double)], color: String, radius: Double = 3) {
    for p in points {
      body.append("<circle cx=\"\(SVGChart.n(px(p.0)))\" cy=\"\(SVGChart.n(py(p.1)))\" r=\"\(radius)\" fill=\"\(color)\"/>")
    }
  }

  /// A rectangle between data coordinates (x0, y0) and (x1, y1).
  mutating func box(x0: Double, x1: Double, y0: Double, y1: Double, color: String, title: String? = nil) {
    let (a, b) = (min(px(x0), px(x1)), max(px(x0), px(x1)))
    let (c, d) = (min(py(y0), py(y1)), max(py(y0), py(y1)))
    let tip = title.map { "<title>\(SVGChart.escape($0))</title>" } ?? ""
    body.append("<rect x=\"\(SVGChart.n(a))\" y=\"\(SVGChart.n(c))\" width=\"\(SVGChart.n(max(b - a, 0.5)))\" height=\"\(SVGChart.n(d - c))\" fill=\"\(color)\">\(tip)</rect>")
  }

  mutating func text(_ s: String, at p: (Double, Double), anchor: String = "start", size: Double = 11, bold: Bool = false,
                     color: String = "#222") {
    body.append("<text x=\"\(SVGChart.n(p.0))\" y=\"\(SVGChart.n(p.1))\" text-anchor=\"\(anchor)\" font-size=\"\(SVGChart.n(size))\""
                + (bold ? " font-weight=\"bold\"" : "") + " fill=\"\(color)\">\(SVGChart.escape(s))</text>")
  }

  /// A legend of colored swatches, one row per entry, starting at pixel `at`.
  mutating func legend(_ entries: [(String, String)], at: (Double, Double), dash: [String?]? = nil) {
    for (i, (name, color)) in entries.enumerated() {
      let y = at.1 + Double(i) * 15
      let d = dash?[i].map { " stroke-dasharray=\"\($0)\"" } ?? ""
      body.append("<path d=\"M\(SVGChart.n(at.0)) \(SVGChart.n(y))h18\" stroke=\"\(color)\" stroke-width=\"3\"\(d)/>")
      text(name, at: (at.0 + 23, y + 4), size: 10)
    }
  }

  /// Raw SVG elements (pixel coordinates).
  mutating func raw(_ element: String) { body.append(element) }

  /// A complete `<svg>` element holding `parts`.
  static func svg(width: Double, height: Double, label: String, _ parts: [String]) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
      + "role=\"img\" aria-label=\"\(escape(label))\" font-family=\"sans-serif\">\n" + parts.joined(separator: "\n") + "\n</svg>"
  }

  var svg: String { SVGChart.svg(width: width, height: height, label: "chart", body) }
}
