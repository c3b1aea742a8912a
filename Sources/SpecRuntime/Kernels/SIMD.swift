/// Vector loads and stores on float pointers. Tensors are not padded, so the last channel
/// chunk of a row may be partial: `count` < 16 lanes are read or written one by one.
public typealias Vec = SIMD16<Float>

@inlinable @inline(__always)
func load(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inlinable @inline(__always)
func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inlinable @inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Channel counts are multiples of 8 in most networks, so a tail of 8 (or 4) lanes is one
/// half (or quarter) vector access rather than a loop over scalars.
@inlinable @inline(__always)
func load(_ p: UnsafePointer<Float>, count: Int) -> Vec {
    if count >= 16 { return load(p) }
    if count == 8 { return Vec(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: .zero) }
    var v = Vec.zero
    var i = 0
    if count >= 4 {
        let quarter = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
        v[0] = quarter[0]; v[1] = quarter[1]; v[2] = quarter[2]; v[3] = quarter[3]
        i = 4
    }
    while i < count { v[i] = p[i]; i += 1 }
    return v
}

@inlinable @inline(__always)
func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count >= 16 { store(v, p); return }
    if count == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self); return }
    var i = 0
    if count >= 4 {
        UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf.lowHalf, as: SIMD4<Float>.self)
        i = 4
    }
    while i < count { p[i] = v[i]; i += 1 }
}

/// `n` rounded up to a multiple of `m`.
@inlinable @inline(__always)
public func roundUp(_ n: Int, _ m: Int) -> Int { (n + m - 1) / m * m }

/// Copies `count` floats, a multiple of 8, in vector moves: for a pixel's few channels a
/// call to memmove costs more than the move.
@inlinable @inline(__always)
func copyVectors(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        store(load(source + i), destination + i)
        i += 16
    }
    if i < count { store8(load8(source + i), destination + i) }
}
