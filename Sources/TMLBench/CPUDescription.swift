import Foundation

/// The CPU a benchmark ran on, for its header: the model name and the instruction-set
/// flags that decide which GEMM runs (from /proc/cpuinfo on Linux, sysctl on macOS).
///
///     CPU: AMD EPYC 9R14 (2 logical CPUs); flags: avx2 fma avx512f avx512_bf16 (no amx)
public struct CPUDescription: Sendable {
  /// Flags that matter for SwiftTML's kernels and for comparing with PyTorch (MKL/oneDNN).
  public static let relevantFlags = [
    "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
    "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve",
  ]

  /// The model name, or "unknown CPU".
  public let model: String
  /// The `relevantFlags` this CPU reports, in that order.
  public let flags: [String]
  public let logicalCPUs: Int

  /// Reads this machine's CPU.
  public static func current() -> CPUDescription {
    let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    return CPUDescription(cpuinfo: text, logicalCPUs: ProcessInfo.processInfo.activeProcessorCount)
  }

  /// Parses the first processor's "model name" and "flags" (x86) or "Features" (ARM) lines.
  public init(cpuinfo: String, logicalCPUs: Int) {
    var model: String?
    var present = Set<String>()
    for line in cpuinfo.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2 else { continue }
      let key = parts[0].trimmingCharacters(in: .whitespaces)
      let value = parts[1].trimmingCharacters(in: .whitespaces)
      if model == nil, key == "model name" || key == "Model" { model = value }
      if present.isEmpty, key == "flags" || key == "Features" { present = Set(value.split(separator: " ").map(String.init)) }
    }
    self.model = model ?? Self.sysctlModel() ?? "unknown CPU"
    flags = Self.relevantFlags.filter(present.contains)
    self.logicalCPUs = logicalCPUs
  }

  /// One line: model, logical CPUs and flags, and "no AVX-512" / "no AMX" where absent.
  public var summary: String {
    var notes: [String] = []
    if !flags.isEmpty, !flags.contains("avx512f"), flags.contains("avx2") { notes.append("no AVX-512") }
    if flags.contains("avx512f"), !flags.contains("amx_tile") { notes.append("no AMX") }
    let shown = flags.isEmpty ? "(not reported)" : flags.joined(separator: " ")
    return "CPU: \(model) (\(logicalCPUs) logical CPUs); flags: \(shown)\(notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")"
  }

  private static func sysctlModel() -> String? {
    #if canImport(Darwin)
    var size = 0
    guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else { return nil }
    var buffer = [CChar](repeating: 0, count: size)
    guard sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 else { return nil }
    return String(cString: buffer)
    #else
    return nil
    #endif
  }
}
