import Foundation
import XCTest
import TMLData

/// `explicit_datetime_inputs` / `explicit_date_inputs`: which folders, which files, and
/// the missing-period tolerance.
final class DatedInputsTests: XCTestCase {
  func testHourlyFoldersEndAtTheEndHourInclusiveAcrossAYearBoundary() throws {
    let d = try DatedInputs(dataRoot: "/data", end: "2023/01/01/01", count: 3, missingTolerance: 0, granularity: .hourly, key: "train_data.explicit_datetime_inputs")
    XCTAssertEqual(d.folders, ["/data/2022/12/31/23", "/data/2023/01/01/00", "/data/2023/01/01/01"])
    XCTAssertEqual(d.summary, "/data/YYYY/MM/DD/HH, 3 hours to 2023/01/01/01")
  }

  func testDailyFoldersCrossALeapDay() throws {
    let d = try DatedInputs(dataRoot: "root", end: "2024/03/01", count: 3, missingTolerance: 0, granularity: .daily, key: "k")
    XCTAssertEqual(d.folders, ["root/2024/02/28", "root/2024/02/29", "root/2024/03/01"])
  }

  func testMalformedOrImpossibleEndsAndCountsAreErrorsNamingTheKey() {
    let cases: [(String, Int, DatedInputs.Granularity, String)] = [
      ("2023-03-31", 1, .daily, "is not YYYY/MM/DD"),
      ("2023/03/31", 1, .hourly, "is not YYYY/MM/DD/HH"),
      ("2023/02/30", 1, .daily, "not a valid"),
      ("2023/03/31/24", 1, .hourly, "not a valid"),
      ("2023/03/31", 0, .daily, "must be positive"),
    ]
    for (end, count, g, message) in cases {
      XCTAssertThrowsError(try DatedInputs(dataRoot: "/d", end: end, count: count, missingTolerance: 0, granularity: g, key: "validation_data[\"v\"].explicit_date_inputs")) { error in
        XCTAssertTrue("\(error)".contains(message), "\(end): \(error)")
        XCTAssertTrue("\(error)".contains("validation_data[\"v\"].explicit_date_inputs"), "\(end): \(error)")
      }
    }
  }

  func testFilesAreTheSortedGzFilesAndMissingPeriodsAreCountedAgainstTheTolerance() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dated-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let fm = FileManager.default
    func touch(_ rel: String) throws {
      let url = root.appendingPathComponent(rel)
      try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      XCTAssertTrue(fm.createFile(atPath: url.path, contents: Data([1])))
    }
    try touch("2023/03/31/21/b.gz")
    try touch("2023/03/31/21/a.GZ")
    try touch("2023/03/31/21/notes.txt")
    try touch("2023/03/31/23/part-0.tfrecord.gz")
    try touch("2023/03/31/22/readme.md")          // a folder without .gz files is missing
    try touch("2023/03/31/22/nested.gz/x.txt")    // …and a directory named *.gz is not a file
    // 2023/03/31/20 does not exist at all.
    let tolerant = try DatedInputs(dataRoot: root.path, end: "2023/03/31/23", count: 4, missingTolerance: 2, granularity: .hourly, key: "k")
    XCTAssertEqual(try tolerant.files(), [
      root.appendingPathComponent("2023/03/31/21/a.GZ").path,
      root.appendingPathComponent("2023/03/31/21/b.gz").path,
      root.appendingPathComponent("2023/03/31/23/part-0.tfrecord.gz").path,
    ])
    let strict = try DatedInputs(dataRoot: root.path, end: "2023/03/31/23", count: 4, missingTolerance: 1, granularity: .hourly, key: "k")
    XCTAssertThrowsError(try strict.files()) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("2 of 4 hours"), text)
      XCTAssertTrue(text.contains("2023/03/31/20") && text.contains("2023/03/31/22"), text)
      XCTAssertTrue(text.contains("num_missing_hours_tol"), text)
    }
  }
}
