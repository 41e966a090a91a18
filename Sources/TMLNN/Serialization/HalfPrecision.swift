/// IEEE binary16 and bfloat16 conversions (round to nearest, ties to even), portable
/// to platforms without `Float16`.
enum HalfPrecision {
  static func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1F)
    let frac = UInt32(h & 0x3FF)
    if exp == 0 {
      if frac == 0 { return Float(bitPattern: sign) }
      let v = Float(frac) * Float(sign: .plus, exponent: -24, significand: 1)  // subnormal
      return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | frac << 13)
  }

  static func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if f.isNaN { return sign | 0x7E00 }
    let a = Swift.abs(f)
    if a >= 65520 { return sign | 0x7C00 }  // overflow → inf (65520 rounds up)
    if a < Float(sign: .plus, exponent: -25, significand: 1) { return sign }  // underflow to ±0
    if a < Float(sign: .plus, exponent: -14, significand: 1) {
      // subnormal: value / 2^-24, rounded to nearest even
      let scaled = a * Float(sign: .plus, exponent: 24, significand: 1)
      return sign | UInt16(scaled.rounded(.toNearestOrEven))
    }
    let exp = Int((bits >> 23) & 0xFF) - 127 + 15
    var mant = bits & 0x7F_FFFF
    var e = UInt32(exp)
    let round = mant & 0x1FFF
    mant >>= 13
    if round > 0x1000 || (round == 0x1000 && (mant & 1) == 1) {
      mant += 1
      if mant == 0x400 { mant = 0; e += 1 }
    }
    return sign | UInt16(e << 10) | UInt16(mant)
  }

  static func bfloat16ToFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

  static func floatToBFloat16(_ f: Float) -> UInt16 {
    if f.isNaN { return UInt16(f.bitPattern >> 16) | 0x40 }
    let bits = f.bitPattern
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
  }
}
