import Foundation
import TMLTrain

/// A one-line progress bar with ETA on a terminal; plain periodic lines otherwise.
/// Drawn on standard error; a failed write there (a closed pipe) is ignored — it is the
/// terminal, and the run's results do not depend on it.
final class ProgressBar {
  private var total: Int
  private let label: String
  private let unit: WorkProgress.Unit?
  private let start = Date()
  private let isTTY = isatty(fileno(stderr)) != 0
  private var lastPrinted = Date.distantPast
  private var closed = false

  init(total: Int, label: String, unit: WorkProgress.Unit? = nil) {
    self.total = max(total, 1)
    self.label = label
    self.unit = unit
  }

  /// Prints a line above the bar (log output during the run).
  func log(_ line: String) {
    if isTTY { ProgressBar.writeStderr("\r\u{1B}[2K") }
    print(line)
    fflush(stdout)
    if isTTY { lastPrinted = .distantPast }  // redraw the bar below the line
  }

  /// Ends the bar's line.
  func finish() {
    guard !closed else { return }
    closed = true
    if isTTY { ProgressBar.writeStderr("\n") }
  }

  /// Draws `done` of the total (`total` replaces it when given, e.g. a job that ends early).
  func update(_ done: Int, total newTotal: Int? = nil) {
    if let newTotal { total = max(newTotal, 1) }
    let now = Date()
    let finished = done >= total
    guard !closed else { return }
    if finished { closed = true }
    guard finished || now.timeIntervalSince(lastPrinted) > (isTTY ? 0.1 : 10) else { return }
    lastPrinted = now
    let elapsed = now.timeIntervalSince(start)
    let fraction = min(Double(done) / Double(total), 1)
    let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    let line = String(format: "%@ %@ %@  %.0fs elapsed, ETA %.0fs", label, bar, amount(done), elapsed, eta)
    ProgressBar.writeStderr(isTTY ? "\r" + line + (finished ? "\n" : "") : line + "\n")
  }

  /// "12/40", "12/40 batches", or "3.1/12.0 MB".
  private func amount(_ done: Int) -> String {
    switch unit {
    case .bytes: return String(format: "%.1f/%.1f MB", Double(done) / 1e6, Double(total) / 1e6)
    case .some(let u): return "\(done)/\(total) \(u.rawValue)"
    case nil: return "\(done)/\(total)"
    }
  }

  static func writeStderr(_ text: String) {
    fflush(stdout)  // keep the order of stdout lines and the bar in a combined log
    fputs(text, stderr)
    fflush(stderr)
  }
}

/// Bars for the library's `WorkProgress` reports: a new bar for each job (a new label,
/// or the same label after the last job finished), closed when the job reports done == total.
final class WorkProgressBars {
  private var bar: ProgressBar?
  private var last: WorkProgress?

  func report(_ p: WorkProgress) {
    if p.label != last?.label || last?.isFinished == true {
      bar?.finish()
      bar = ProgressBar(total: p.total, label: p.label, unit: p.unit)
    }
    last = p
    bar?.update(p.done, total: p.total)
  }

  /// Prints a line above the current bar.
  func log(_ line: String) {
    if let bar { bar.log(line) } else { print(line) }
  }
}
