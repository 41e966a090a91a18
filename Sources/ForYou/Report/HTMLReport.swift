import Foundation

/// `report.html`: one self-contained page (inline SVG and CSS, no scripts, no network)
/// with the run's summary, the NDCG@10 quality chart and table, the training curves of
/// both rankers and of TwHIN, the per-head metrics, a per-head calibration plot
/// (predicted vs observed rate in equal-count bins), and the explained feed (table and
/// score-contribution chart). The markup is well-formed XML, so it can be checked with
/// any XML parser as well as opened in a browser.
///
///     try HTMLReport(result: result).html.write(toFile: "report.html", atomically: true, encoding: .utf8)
public struct HTMLReport {
  public let result: DemoResult

  public init(result: DemoResult) { self.result = result }

  static func esc(_ s: String) -> String { SVGChart.escape(s) }
  static func num(_ v: Double, _ format: String = "%.4f") -> String { v.isFinite ? String(format: format, v) : "—" }

  public var html: String {
    let r = result, n = r.network
    let feed = r.feeds.first
    var page = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"/><title>SwiftTML — For You demo</title>
    <style>
    body{font-family:sans-serif;max-width:1100px;margin:24px auto;color:#222;padding:0 12px}
    table{border-collapse:collapse;font-size:12px;margin:8px 0}
    td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
    th{background:#f3f3f3} td.l,th.l{text-align:left} .neg{color:#b00} .pos{color:#060}
    figure{margin:12px 0} figcaption{font-size:12px;color:#555}
    </style></head><body>
    <h1>For You demo: from a social graph to a ranked, explained feed</h1>
    <p>\(n.users) users, \(n.authors) authors, \(n.topics) topics, \(n.tweets) tweets, \(n.follows) follows;
    impressions \(n.impressions[0]) history / \(n.impressions[1]) train / \(n.impressions[2]) held out (seed \(r.options.seed)).
    Generative model, features and metrics: <code>docs/demo.md</code>.</p>
    <h2>Ranking quality on held-out impressions (NDCG@10)</h2>
    <figure>\(qualityChart)<figcaption>Per-user NDCG@10 of each ordering against the realised utility Σ w·y and the
    simulator's expected utility Σ w·P<sub>true</sub> (worst-to-best normalised: 0 = worst possible order, 1 = ideal).</figcaption></figure>

    """
    page += table(["ordering", "NDCG@10 realised", "± s.e.", "NDCG@10 expected", "± s.e."],
                  r.quality.map { [HTMLReport.esc($0.name), HTMLReport.num($0.realised), HTMLReport.num($0.realisedStandardError),
                                   HTMLReport.num($0.expected), HTMLReport.num($0.expectedStandardError)] })
    page += "<h2>Training</h2>\n<figure>\(rankerCurves)<figcaption>Heavy Ranker training loss (mean of the ten heads' BCE) after the first 10 % of steps.</figcaption></figure>\n"
    page += "<figure>\(twhinCurve)<figcaption>TwHIN loss per epoch; held-out sampled AUC \(HTMLReport.num(r.twhinEvaluation.sampledAUC, "%.3f"))"
    if let all = r.twhinEvaluation.allCandidates {
      page += ", filtered MRR \(HTMLReport.num(all.mrr, "%.3f")), Hits@10 \(HTMLReport.num(all.hits[10] ?? .nan, "%.3f"))"
    }
    page += ".</figcaption></figure>\n<h2>Per-head metrics on held-out impressions</h2>\n"
    var header = ["head", "weight"]
    for k in r.rankers { header += ["AUROC (\(k.variant.title))", "RCE (\(k.variant.title))"] }
    page += table(header, EngagementHead.allCases.map { h in
      [h.label, String(format: "%g", h.weight)] + r.rankers.flatMap {
        [HTMLReport.num($0.metrics["\(h.task)/auroc"] ?? .nan), HTMLReport.num($0.metrics["\(h.task)/rce"] ?? .nan, "%.2f")]
      }
    })
    page += "<h2>Calibration</h2>\n<figure>\(calibrationChart)<figcaption>Per head: mean predicted probability vs observed rate in ten "
      + "equal-count bins of held-out impressions (\(HTMLReport.esc(r.rankers.first?.variant.title ?? ""))); the dashed diagonal is perfect calibration.</figcaption></figure>\n"
    if let feed {
      page += "<h2>The feed of user \(feed.user)</h2>\n<p>\(feed.items.count) candidates (\(feed.inNetworkCandidates) in-network, "
        + "\(feed.twhinCandidates) TwHIN nearest neighbours), ranked by score = Σ<sub>h</sub> weight<sub>h</sub>·p<sub>h</sub>.</p>\n"
      page += "<figure>\(feedChart)<figcaption>Each head's contribution weight·p to the score of the top tweets.</figcaption></figure>\n"
      page += feedTable(feed)
    }
    page += "<p>Files: graph/, twhin/, data/, segdense.json, ranker_twhin.yaml, ranker_no_twhin.yaml, ranker_*/ (checkpoints, "
      + "metrics.jsonl, tensorboard/), feed.tsv, metrics.jsonl.</p>\n</body></html>\n"
    return page
  }

  func table(_ header: [String], _ rows: [[String]]) -> String {
    var s = "<table><tr>" + header.enumerated().map { "<th\($0.offset == 0 ? " class=\"l\"" : "")>\(HTMLReport.esc($0.element))</th>" }.joined() + "</tr>\n"
    for row in rows {
      s += "<tr>" + row.enumerated().map { "<td\($0.offset == 0 ? " class=\"l\"" : "")>\($0.element)</td>" }.joined() + "</tr>\n"
    }
    return s + "</table>\n"
  }

  func feedTable(_ feed: Feed) -> String {
    let heads = EngagementHead.allCases
    let header = ["#", "tweet", "author", "source", "media", "age (h)", "score", "true E[utility]"] + heads.map { "\($0.label) p → w·p" }
    let rows = feed.items.prefix(result.options.feedSize).enumerated().map { rank, i -> [String] in
      [String(rank + 1), String(i.tweet), String(i.author), i.source.rawValue, i.media.name, String(format: "%.1f", i.ageHours),
       String(format: "%+.3f", i.score), String(format: "%+.3f", i.trueExpectedUtility)]
        + heads.map { h in
          let c = i.contributions[h.rawValue]
          return String(format: "%.3f → <span class=\"%@\">%+.3f</span>", i.probabilities[h.rawValue], c < 0 ? "neg" : "pos", c)
        }
    }
    return table(header, rows)
  }

  var qualityChart: String {
    let rows = result.quality
    let h = Double(rows.count) * 34 + 60
    var c = SVGChart(width: 900, height: h, x: (0, 1), y: (0, Double(rows.count)))
    c.left = 300
    c.right = 60
    c.axes(xLabel: "NDCG@10", yLabel: "", yTicks: false)
    for (i, r) in rows.enumerated() {
      let y = Double(rows.count - i)
      c.box(x0: 0, x1: max(r.realised, 0), y0: y - 0.18, y1: y - 0.48, color: SVGChart.palette[0], title: "realised \(r.realised)")
      c.box(x0: 0, x1: max(r.expected, 0), y0: y - 0.52, y1: y - 0.82, color: SVGChart.palette[1], title: "expected \(r.expected)")
      c.text(r.name, at: (c.px(0) - 6, c.py(y - 0.5) + 4), anchor: "end", size: 11)
      c.text(HTMLReport.num(r.realised, "%.3f"), at: (c.px(max(r.realised, 0)) + 3, c.py(y - 0.33) + 4), size: 9)
      c.text(HTMLReport.num(r.expected, "%.3f"), at: (c.px(max(r.expected, 0)) + 3, c.py(y - 0.67) + 4), size: 9)
    }
    c.legend([("realised utility Σ w·y", SVGChart.palette[0]), ("expected utility Σ w·P_true", SVGChart.palette[1])], at: (20, 14))
    return SVGChart.svg(width: c.width, height: c.height, label: "NDCG@10 by ordering", c.body)
  }

  /// Training loss after the first 10 % of steps (warm-up and the initial drop), where the two rankers differ.
  var rankerCurves: String {
    let warmUp = Double(result.rankers.compactMap { $0.curve.last?.step }.max() ?? 0) / 10
    let series = result.rankers.map { r in r.curve.map { (Double($0.step), $0.loss) }.filter { $0.0 > warmUp } }
    let all = series.flatMap { $0 }
    let ys = all.map(\.1)
    var c = SVGChart(width: 540, height: 300, x: (all.map(\.0).min() ?? 0, all.map(\.0).max() ?? 1),
                     y: ((ys.min() ?? 0) * 0.95, (ys.max() ?? 1) * 1.02))
    c.axes(xLabel: "step", yLabel: "training loss", title: "Heavy Ranker")
    for (i, s) in series.enumerated() { c.line(s, color: SVGChart.palette[i]) }
    c.legend(result.rankers.enumerated().map { ($0.element.variant.title, SVGChart.palette[$0.offset]) }, at: (c.px(c.x.0) + 250, c.py(c.y.1) + 16))
    return SVGChart.svg(width: c.width, height: c.height, label: "Heavy Ranker training loss", c.body)
  }

  var twhinCurve: String {
    let pts = result.twhinLosses.enumerated().map { (Double($0.offset + 1), Double($0.element)) }
    let ys = pts.map(\.1)
    var c = SVGChart(width: 400, height: 300, x: (1, Double(max(pts.count, 2))), y: ((ys.min() ?? 0) * 0.95, (ys.max() ?? 1) * 1.02))
    c.axes(xLabel: "epoch", yLabel: "loss", title: "TwHIN")
    c.line(pts, color: SVGChart.palette[2])
    c.markers(pts, color: SVGChart.palette[2])
    return SVGChart.svg(width: c.width, height: c.height, label: "TwHIN training loss", c.body)
  }

  var calibrationChart: String {
    let (pw, ph, cols) = (210.0, 200.0, 5)
    var parts: [String] = []
    for (i, curve) in result.calibration.enumerated() {
      let top = max(curve.bins.map { max($0.predicted, $0.observed) }.max() ?? 0, 1e-3) * 1.05
      var c = SVGChart(width: pw, height: ph, x: (0, top), y: (0, top))
      c.left = 44
      c.origin = (Double(i % cols) * pw, Double(i / cols) * ph)
      c.axes(xLabel: "predicted", yLabel: "observed", title: curve.head.label)
      c.line([(0, 0), (top, top)], color: "#999", width: 1, dash: "4 3")
      let pts = curve.bins.map { ($0.predicted, $0.observed) }
      c.line(pts, color: SVGChart.palette[i % 10])
      c.markers(pts, color: SVGChart.palette[i % 10], radius: 2.5)
      parts += c.body
    }
    let rows = (result.calibration.count + cols - 1) / cols
    return SVGChart.svg(width: pw * Double(cols), height: ph * Double(max(rows, 1)), label: "calibration per head", parts)
  }

  var feedChart: String {
    let items = Array((result.feeds.first?.items ?? []).prefix(result.options.feedSize))
    let lo = min(items.map { $0.contributions.filter { $0 < 0 }.reduce(0, +) }.min() ?? 0, 0)
    let hi = max(items.map { $0.contributions.filter { $0 > 0 }.reduce(0, +) }.max() ?? 1, 0.1)
    var c = SVGChart(width: 900, height: Double(items.count) * 26 + 110, x: (lo * 1.05, hi * 1.05), y: (0, Double(max(items.count, 1))))
    c.left = 120
    c.right = 150
    c.axes(xLabel: "contribution weight·p to the score", yLabel: "", yTicks: false)
    for (i, item) in items.enumerated() {
      let y = Double(items.count - i)
      var pos = 0.0, neg = 0.0
      for h in EngagementHead.allCases {
        let v = item.contributions[h.rawValue]
        let (a, b) = v >= 0 ? (pos, pos + v) : (neg + v, neg)
        if v >= 0 { pos += v } else { neg += v }
        c.box(x0: a, x1: b, y0: y - 0.15, y1: y - 0.85, color: SVGChart.palette[h.rawValue],
              title: "\(h.label): p \(item.probabilities[h.rawValue]), contribution \(v)")
      }
      c.text("#\(i + 1) tweet \(item.tweet)", at: (c.px(c.x.0) - 6, c.py(y - 0.5) + 4), anchor: "end", size: 11)
    }
    c.raw("<path d=\"M\(SVGChart.n(c.px(0))) \(SVGChart.n(c.py(c.y.1)))V\(SVGChart.n(c.py(0)))\" stroke=\"#000\"/>")
    c.legend(EngagementHead.allCases.map { ($0.label, SVGChart.palette[$0.rawValue]) }, at: (c.width - 135, c.top + 10))
    return SVGChart.svg(width: c.width, height: c.height, label: "feed score contributions", c.body)
  }
}
