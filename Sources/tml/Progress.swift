import Foundation

/// A one-line progress bar with ETA on a terminal; plain periodic lines otherwise.
final class ProgressBar {
  private let total: Int
  private let label: String
  private let start = Date()
  private let isTTY = isatty(fileno(stderr)) != 0
  private var lastPrinted = Date.distantPast
  private var closed = false

  init(total: Int, label: String) {
    self.total = max(total, 1)
    self.label = label
  }

  /// Prints a line above the bar (log output during the run).
  func log(_ line: String) {
    if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    print(line)
    fflush(stdout)
    if isTTY { lastPrinted = .distantPast }  // redraw the bar below the line
  }

  /// Ends the bar's line.
  func finish() {
    guard !closed else { return }
    closed = true
    if isTTY { FileHandle.standardError.write(Data("\n".utf8)) }
  }

  func update(_ done: Int) {
    let now = Date()
    let finished = done >= total
    guard !closed else { return }
    if finished { closed = true }
    guard finished || now.timeIntervalSince(lastPrinted) > (isTTY ? 0.1 : 10) else { return }
    lastPrinted = now
    let elapsed = now.timeIntervalSince(start)
    let fraction = Double(done) / Double(total)
    let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    let line = String(format: "%@ %@ %d/%d  %.0fs elapsed, ETA %.0fs", label, bar, done, total, elapsed, eta)
    if isTTY {
      FileHandle.standardError.write(Data(("\r" + line + (finished ? "\n" : "")).utf8))
    } else {
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
  }
}
