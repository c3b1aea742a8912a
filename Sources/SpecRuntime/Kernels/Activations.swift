/// An elementwise nonlinearity, applied in kernel epilogues. Kernels are generic over it,
/// so each use is specialized and inlined: no call or branch per element.
public protocol ActivationFunction {
    static func apply(_ x: Vec) -> Vec
}

public enum Identity: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { x }
}

public enum ReLU: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { pointwiseMax(x, .zero) }
}

public enum ReLU6: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec { pointwiseMin(pointwiseMax(x, .zero), Vec(repeating: 6)) }
}

/// x · relu6(x + 3) / 6
public enum HardSwish: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec {
        x * pointwiseMin(pointwiseMax(x + 3, .zero), Vec(repeating: 6)) * (1 / 6 as Float)
    }
}

/// relu6(x + 3) / 6, as torch, timm and torchvision define it.
public enum HardSigmoid: ActivationFunction {
    @inlinable @inline(__always)
    public static func apply(_ x: Vec) -> Vec {
        pointwiseMin(pointwiseMax(x + 3, .zero), Vec(repeating: 6)) * (1 / 6 as Float)
    }
}
