import XCTest

/// `text` with every `(a, b)` of `edits` replaced in order, failing the test where an `a`
/// does not occur (so a config that changed under a test is noticed): "`name` has no a".
func editedConfig(_ text: String, _ edits: [(String, String)], name: String, file: StaticString = #filePath, line: UInt = #line) -> String {
  var text = text
  for (a, b) in edits {
    XCTAssertTrue(text.contains(a), "\(name) has no \(a)", file: file, line: line)
    text = text.replacingOccurrences(of: a, with: b)
  }
  return text
}
