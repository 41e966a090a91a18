import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses report.html as XML (the report is written well-formed) and counts what the
/// tests check: `<svg>` elements, their marks (non-empty `<path d>`, `<rect>`,
/// `<circle>`), and table rows.
final class ReportStructure: NSObject, XMLParserDelegate {
  private(set) var svgCount = 0
  private(set) var nonEmptyPaths = 0
  private(set) var tableRows = 0
  private var marksInSVG: [Int] = []
  private var inSVG = false

  var everySVGHasMarks: Bool { !marksInSVG.isEmpty && marksInSVG.allSatisfy { $0 > 0 } }

  init(html: String) throws {
    super.init()
    // The HTML5 doctype has no DTD; XML parsers accept it as is.
    let parser = XMLParser(data: Data(html.utf8))
    parser.delegate = self
    guard parser.parse() else {
      throw NSError(domain: "ReportStructure", code: 1, userInfo: [
        NSLocalizedDescriptionKey: "report.html is not well-formed at line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "?")"])
    }
  }

  func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
              attributes: [String: String] = [:]) {
    switch name {
    case "svg":
      svgCount += 1
      marksInSVG.append(0)
      inSVG = true
    case "path":
      if let d = attributes["d"], d.count > 3 {
        nonEmptyPaths += 1
        if inSVG { marksInSVG[marksInSVG.count - 1] += 1 }
      }
    case "rect", "circle":
      if inSVG { marksInSVG[marksInSVG.count - 1] += 1 }
    case "tr":
      tableRows += 1
    default: break
    }
  }

  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if name == "svg" { inSVG = false }
  }

  /// The first Chromium-family browser on PATH.
  static func chromium() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
      for dir in path.split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      }
    }
    return nil
  }

  /// Runs a program and returns its standard output.
  static func run(_ program: String, _ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }
}
