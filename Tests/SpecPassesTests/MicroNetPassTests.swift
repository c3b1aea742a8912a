import SpecIR
import SpecLang
import SpecPasses
import Testing

/// A one-block MicroNet: shuffles after a conv (behind a ReLU6) and after Dynamic
/// Shift-Max, a residual after Dynamic Shift-Max, activations around pooling, BatchNorm1d.
let microSpec = """
    network tiny_micro
    resolution 16
    classes 4
    checkpoint micronet bn_eps=1e-5
    stem
      conv k=3x1 s=2x1 out=2 bn              micronet=stem.conv1,stem.bn1
      conv k=1x3 s=1x2 out=4 groups=2 bn     micronet=stem.conv2,stem.bn2
      shuffle groups=2
      act RE6
    end
    blocks micro  micronet=features.{block+1}
      s  n  c  ks  c1  c2  g1  g2  c3  g3  g4  y1  y2  y3  r
      1  1  4  3   1   2   0   2   4   2   2   2   2   1   1
    end
    head
      act RE6
      avgpool
      act HS
      linear out=classes bias bn act=HS      micronet=fc,fc_bn
    end
    """

@Suite struct MicroNetPassTests {
    @Test("fold-batchnorm folds BatchNorm1d into the linear layer before it")
    func batchNorm1d() throws {
        let before = ir(try lowered(microSpec)).split(separator: "\n").suffix(2)
        #expect(Array(before) == ["%34 = batchnorm %33 fc_bn : 4x1x1", "%35 = hardswish %34 : 4x1x1"])
        let after = ir(try after("fold-batchnorm", microSpec)).split(separator: "\n").suffix(2)
        #expect(Array(after) == ["%33 = linear_bn %32 w=fc bias bn=fc_bn : 4x1x1", "%35 = hardswish %33 : 4x1x1"])
    }

    @Test("fold-channel-shuffle: shuffles vanish into the conv (through its ReLU6) and into shift-max, composed")
    func foldChannelShuffle() throws {
        #expect(ir(try after("fold-batchnorm", microSpec)) == """
            %0 = input : 3x16x16
            %1 = conv2d_bn %0 k=3x1 s=2x1 p=1x0 g=1 w=stem.conv1 bn=stem.bn1 : 2x8x16
            %3 = conv2d_bn %1 k=1x3 s=1x2 p=0x1 g=2 w=stem.conv2 bn=stem.bn2 : 4x8x8
            %5 = channel_shuffle %3 groups=2 : 4x8x8
            %6 = relu6 %5 : 4x8x8
            %7 = dwconv2d_bn %6 k=3x1 s=1x1 p=1x0 g=4 w=features.1.layers.0.conv.0 bn=features.1.layers.0.conv.1 : 4x8x8
            %9 = conv2d_bn %7 k=1x3 s=1x1 p=0x1 g=4 w=features.1.layers.0.conv.2 bn=features.1.layers.0.conv.3 : 8x8x8
            %11 = global_avg_pool %9 : 8x1x1
            %12 = linear %11 w=features.1.layers.1.fc.0 bias : 4x1x1
            %13 = relu %12 : 4x1x1
            %14 = linear %13 w=features.1.layers.1.fc.2 bias : 32x1x1
            %15 = hardsigmoid %14 : 32x1x1
            %16 = shift_max %9, %15 coefficients=4 shift_groups=2 act_max=4 init_a=1,1 init_b=0,0 : 8x8x8
            %17 = channel_shuffle %16 groups=2 : 8x8x8
            %18 = channel_shuffle %17 groups=4 : 8x8x8
            %19 = conv2d_bn %18 k=1x1 s=1x1 p=0x0 g=2 w=features.1.layers.4.conv.0 bn=features.1.layers.4.conv.1 : 4x8x8
            %21 = global_avg_pool %19 : 4x1x1
            %22 = linear %21 w=features.1.layers.5.fc.0 bias : 4x1x1
            %23 = relu %22 : 4x1x1
            %24 = linear %23 w=features.1.layers.5.fc.2 bias : 8x1x1
            %25 = hardsigmoid %24 : 8x1x1
            %26 = shift_max %19, %25 coefficients=2 shift_groups=2 act_max=4 init_a=1,0 init_b=0,0 : 4x8x8
            %27 = channel_shuffle %26 groups=2 : 4x8x8
            %28 = channel_shuffle %27 groups=2 : 4x8x8
            %29 = add %28, %6 : 4x8x8
            %30 = relu6 %29 : 4x8x8
            %31 = global_avg_pool %30 : 4x1x1
            %32 = hardswish %31 : 4x1x1
            %33 = linear_bn %32 w=fc bias bn=fc_bn : 4x1x1
            %35 = hardswish %33 : 4x1x1
            """)
        #expect(ir(try after("fold-channel-shuffle", microSpec)) == """
            %0 = input : 3x16x16
            %1 = conv2d_bn %0 k=3x1 s=2x1 p=1x0 g=1 w=stem.conv1 bn=stem.bn1 : 2x8x16
            %3 = conv2d_bn_shuffle %1 k=1x3 s=1x2 p=0x1 g=2 w=stem.conv2 bn=stem.bn2 shuffle=2 : 4x8x8
            %6 = relu6 %3 : 4x8x8
            %7 = dwconv2d_bn %6 k=3x1 s=1x1 p=1x0 g=4 w=features.1.layers.0.conv.0 bn=features.1.layers.0.conv.1 : 4x8x8
            %9 = conv2d_bn %7 k=1x3 s=1x1 p=0x1 g=4 w=features.1.layers.0.conv.2 bn=features.1.layers.0.conv.3 : 8x8x8
            %11 = global_avg_pool %9 : 8x1x1
            %12 = linear %11 w=features.1.layers.1.fc.0 bias : 4x1x1
            %13 = relu %12 : 4x1x1
            %14 = linear %13 w=features.1.layers.1.fc.2 bias : 32x1x1
            %15 = hardsigmoid %14 : 32x1x1
            %16 = shift_max_shuffle %9, %15 coefficients=4 shift_groups=2 act_max=4 init_a=1,1 init_b=0,0 shuffle=2,4 : 8x8x8
            %19 = conv2d_bn %16 k=1x1 s=1x1 p=0x0 g=2 w=features.1.layers.4.conv.0 bn=features.1.layers.4.conv.1 : 4x8x8
            %21 = global_avg_pool %19 : 4x1x1
            %22 = linear %21 w=features.1.layers.5.fc.0 bias : 4x1x1
            %23 = relu %22 : 4x1x1
            %24 = linear %23 w=features.1.layers.5.fc.2 bias : 8x1x1
            %25 = hardsigmoid %24 : 8x1x1
            %26 = shift_max_shuffle %19, %25 coefficients=2 shift_groups=2 act_max=4 init_a=1,0 init_b=0,0 shuffle=2,2 : 4x8x8
            %29 = add %26, %6 : 4x8x8
            %30 = relu6 %29 : 4x8x8
            %31 = global_avg_pool %30 : 4x1x1
            %32 = hardswish %31 : 4x1x1
            %33 = linear_bn %32 w=fc bias bn=fc_bn : 4x1x1
            %35 = hardswish %33 : 4x1x1
            """)
    }

    @Test("fuse-activation also moves activations into pooling, before and after")
    func poolActivations() throws {
        let lines = ir(try after("fuse-activation", microSpec)).split(separator: "\n")
        #expect(lines.contains("%31 = relu6_global_avg_pool_hardswish %29 : 4x1x1"))
        #expect(lines.contains("%3 = conv2d_bn_shuffle_relu6 %1 k=1x3 s=1x2 p=0x1 g=2 w=stem.conv2 bn=stem.bn2 shuffle=2 : 4x8x8"))
        #expect(lines.last == "%33 = linear_bn_hardswish %31 w=fc bias bn=fc_bn : 4x1x1")
    }

    @Test("fuse-dy-shift-max: pool, two linear layers and the shift-max become one op; then the residual joins it")
    func fuseDynamicShiftMax() throws {
        #expect(ir(try after("fuse-residual", microSpec)) == """
            %0 = input : 3x16x16
            %1 = conv2d_bn %0 k=3x1 s=2x1 p=1x0 g=1 w=stem.conv1 bn=stem.bn1 : 2x8x16
            %3 = conv2d_bn_shuffle_relu6 %1 k=1x3 s=1x2 p=0x1 g=2 w=stem.conv2 bn=stem.bn2 shuffle=2 : 4x8x8
            %7 = dwconv2d_bn %3 k=3x1 s=1x1 p=1x0 g=4 w=features.1.layers.0.conv.0 bn=features.1.layers.0.conv.1 : 4x8x8
            %9 = conv2d_bn %7 k=1x3 s=1x1 p=0x1 g=4 w=features.1.layers.0.conv.2 bn=features.1.layers.0.conv.3 : 8x8x8
            %16 = dy_shift_max_shuffle %9 squeeze=4 coefficients=4 shift_groups=2 act_max=4 init_a=1,1 init_b=0,0 shuffle=2,4 fc1=features.1.layers.1.fc.0 fc2=features.1.layers.1.fc.2 : 8x8x8
            %19 = conv2d_bn %16 k=1x1 s=1x1 p=0x0 g=2 w=features.1.layers.4.conv.0 bn=features.1.layers.4.conv.1 : 4x8x8
            %26 = dy_shift_max_shuffle_add %19, %3 squeeze=4 coefficients=2 shift_groups=2 act_max=4 init_a=1,0 init_b=0,0 shuffle=2,2 fc1=features.1.layers.5.fc.0 fc2=features.1.layers.5.fc.2 : 4x8x8
            %31 = relu6_global_avg_pool_hardswish %26 : 4x1x1
            %33 = linear_bn_hardswish %31 w=fc bias bn=fc_bn : 4x1x1
            """)
    }

    @Test("the shift source is the official index: group and position within it both rotate by one")
    func shiftSource() {
        // index[i*gc + j] = ((i+1) % G)*gc + (j+1) % gc, with G = 2, gc = 4
        let params = ShiftMaxParams(coefficients: 2, shiftGroups: 2, actMax: 4, initA: [1, 0], initB: [0, 0])
        #expect(params.shiftSource(channels: 8) == [5, 6, 7, 4, 1, 2, 3, 0])
    }
}
