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
func load(_ p: UnsafePointer<Float>, count: Int) -> Vec {
    if count >= 16 { return load(p) }
    var v = Vec.zero
    for i in 0..<count { v[i] = p[i] }
    return v
}

@inlinable @inline(__always)
func store(_ v: Vec, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count >= 16 { store(v, p); return }
    for i in 0..<count { p[i] = v[i] }
}

/// `n` rounded up to a multiple of `m`.
@inlinable @inline(__always)
public func roundUp(_ n: Int, _ m: Int) -> Int { (n + m - 1) / m * m }
