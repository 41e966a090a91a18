/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven slicing-by-8,
/// and TFRecord's masked form `((c >> 15) | (c << 17)) &+ 0xa282ead8`. The one checksum
/// of the package: TFRecord framing and the files of a checkpoint (`state.json`'s
/// `crc32c`, the same value `gsutil hash -c` prints base64-encoded).
///
///     CRC32C.checksum(Array("123456789".utf8))  // 0xE3069283
public enum CRC32C {
  static let tables: [[UInt32]] = {
    var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
    for i in 0..<256 {
      var c = UInt32(i)
      for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
      t[0][i] = c
    }
    for i in 0..<256 {
      for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
    }
    return t
  }()

  /// CRC-32C of `bytes`.
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    let n = bytes.count
    var i = 0
    tables.withUnsafeBufferPointer { tb in
      let t0 = tb[0], t1 = tb[1], t2 = tb[2], t3 = tb[3], t4 = tb[4], t5 = tb[5], t6 = tb[6], t7 = tb[7]
      while i + 8 <= n {
        let lo = crc ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        crc = t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)] ^ t5[Int((lo >> 16) & 0xFF)] ^ t4[Int(lo >> 24)]
          ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])] ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
        i += 8
      }
      while i < n {
        crc = t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
        i += 1
      }
    }
    return crc ^ 0xFFFF_FFFF
  }

  public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    let a = Array(bytes)
    return a.withUnsafeBytes { checksum($0) }
  }

  /// TFRecord's masked CRC.
  public static func masked(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8 }
}
