import SpecSIMD

/// An elementwise nonlinearity, applied in kernel epilogues. Kernels are generic over it,
/// so each use is specialized and inlined: no call or branch per element.
public protocol ActivationFunction {
    static func apply(_ x: Vec) -> Vec
    /// The same on one value, for scalar kernels.
    static func apply(_ x: Float) -> Float
}

public enum Identity: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { x }
    @inlinable @inline(__always)
    public static func apply(_ x: Float) -> Float { x }
}

public enum ReLU: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { spec_max16(x, 0) }
    @inlinable @inline(__always)
    public static func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
}

public enum ReLU6: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { spec_min16(spec_max16(x, 0), 6) }
    @inlinable @inline(__always)
    public static func apply(_ x: Float) -> Float { x < 0 ? 0 : x > 6 ? 6 : x }
}

/// x · relu6(x + 3) / 6
public enum HardSwish: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { spec_hardswish16(x) }
    @inlinable @inline(__always)
    public static func apply(_ x: Float) -> Float { x * ReLU6.apply(x + 3) * (1 / 6 as Float) }
}

/// relu6(x + 3) / 6, as torch, timm and torchvision define it.
public enum HardSigmoid: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { spec_hardsigmoid16(x) }
    @inlinable @inline(__always)
    public static func apply(_ x: Float) -> Float { ReLU6.apply(x + 3) * (1 / 6 as Float) }
}
