import SpecLang

/// One operation and the tensor it produces.
public struct Node: Hashable, Sendable {
    public var id: NodeID
    public var op: Op
    public var shape: TensorShape
    /// A readable role, e.g. `block3.expand`; unique within the graph.
    public var name: String
    public var origin: Origin

    public init(id: NodeID, op: Op, shape: TensorShape, name: String, origin: Origin) {
        self.id = id
        self.op = op
        self.shape = shape
        self.name = name
        self.origin = origin
    }
}

/// A network as a list of nodes in execution order (a topological order of the DAG).
/// Node ids are never reused, so a dump before a pass and one after it line up.
public struct Graph: Sendable {
    public var network: String
    public var specFile: String
    public var classes: Int
    public var width: Double
    public var conventions: [Convention]
    public private(set) var nodes: [Node]
    public var output: NodeID
    /// Filled in by the plan-memory pass.
    public var memoryPlan: MemoryPlan?
    private var nextID: Int

    public init(network: String, specFile: String, classes: Int, width: Double, conventions: [Convention]) {
        self.network = network
        self.specFile = specFile
        self.classes = classes
        self.width = width
        self.conventions = conventions
        self.nodes = []
        self.output = NodeID(0)
        self.memoryPlan = nil
        self.nextID = 0
    }

    public var input: Node { nodes[0] }

    public func node(_ id: NodeID) -> Node {
        guard let node = nodes.first(where: { $0.id == id }) else { preconditionFailure("no node \(id)") }
        return node
    }

    public func index(of id: NodeID) -> Int? { nodes.firstIndex { $0.id == id } }

    /// The node, unless a rewrite has removed it.
    public func nodeIfPresent(_ id: NodeID) -> Node? { nodes.first { $0.id == id } }

    /// Nodes that read `id`.
    public func users(of id: NodeID) -> [Node] {
        nodes.filter { $0.op.operands.contains(id) }
    }

    /// The only node that reads `id`, if exactly one does and `id` is not the graph output.
    public func soleUser(of id: NodeID) -> Node? {
        let users = users(of: id)
        guard users.count == 1, id != output else { return nil }
        return users[0]
    }

    /// Appends a node, computing its shape; throws a diagnostic at `origin` if the op does not fit its operands.
    @discardableResult
    public mutating func append(_ op: Op, name: String, origin: Origin) throws -> NodeID {
        let id = NodeID(nextID)
        let shape = try inferShape(op, at: origin.location)
        nextID += 1
        nodes.append(Node(id: id, op: op, shape: shape, name: name, origin: origin))
        output = id
        return id
    }

    /// Replaces a node's op, and its name if given (its shape must not change; the verifier checks).
    public mutating func replaceOp(of id: NodeID, with op: Op, name: String? = nil) {
        guard let i = index(of: id) else { preconditionFailure("no node \(id)") }
        nodes[i].op = op
        if let name { nodes[i].name = name }
    }

    /// Makes every reader of `old` read `new` instead.
    public mutating func replaceUses(of old: NodeID, with new: NodeID) {
        for i in nodes.indices {
            nodes[i].op = nodes[i].op.mapOperands { $0 == old ? new : $0 }
        }
        if output == old { output = new }
    }

    /// Removes nodes that nothing reads (except the output).
    public mutating func removeDeadNodes() {
        var live: Set<NodeID> = [output]
        for node in nodes.reversed() where live.contains(node.id) {
            live.formUnion(node.op.operands)
        }
        nodes.removeAll { !live.contains($0.id) && $0.op != .input }
    }

    /// Shape inference: the output shape of `op` given the graph's current nodes.
    public func inferShape(_ op: Op, at location: SourceLocation) throws -> TensorShape {
        func shape(_ id: NodeID) -> TensorShape { node(id).shape }
        switch op {
        case .input:
            preconditionFailure("the input node is created by Graph.setInput")
        case .conv(let c):
            let x = shape(c.input)
            guard c.groups >= 1, x.channels % c.groups == 0, c.outChannels % c.groups == 0 else {
                throw SpecError("conv with \(c.groups) groups cannot map \(x.channels) input channels to \(c.outChannels) outputs (both must divide by the groups)", at: location)
            }
            let h = (x.height + 2 * c.padHeight - c.kernelHeight) / c.strideHeight + 1
            let w = (x.width + 2 * c.padWidth - c.kernelWidth) / c.strideWidth + 1
            guard x.height + 2 * c.padHeight >= c.kernelHeight, x.width + 2 * c.padWidth >= c.kernelWidth, h >= 1, w >= 1 else {
                throw SpecError("input \(x) is too small for a \(c.kernelHeight)x\(c.kernelWidth) conv with stride \(c.strideHeight)", at: location)
            }
            let out = TensorShape(channels: c.outChannels, height: h, width: w)
            try checkSize(out, weights: c.outChannels * (x.channels / c.groups) * c.kernelHeight * c.kernelWidth, at: location)
            if let r = c.residual, shape(r) != out {
                throw SpecError("residual add of \(shape(r)) to a conv output of \(out): shapes do not match", at: location)
            }
            return out
        case .batchNorm(let x, _), .activation(let x, _):
            return shape(x)
        case .squeezeExcite(let se):
            return shape(se.input)
        case .add(let a, let b):
            guard shape(a) == shape(b) else {
                throw SpecError("residual add of \(shape(b)) to \(shape(a)): shapes do not match", at: location)
            }
            return shape(a)
        case .globalAveragePool(let x, _, _):
            return TensorShape(channels: shape(x).channels, height: 1, width: 1)
        case .channelShuffle(let x, let groups):
            guard groups >= 1, shape(x).channels % groups == 0 else {
                throw SpecError("cannot shuffle \(shape(x).channels) channels in \(groups) groups", at: location)
            }
            return shape(x)
        case .shiftMax(let x, let coefficients, let p):
            let c = shape(x).channels
            guard shape(coefficients) == TensorShape(channels: c * p.coefficients, height: 1, width: 1) else {
                throw SpecError("shift-max of \(shape(x)) needs \(c * p.coefficients)x1x1 coefficients, found \(shape(coefficients))", at: location)
            }
            guard p.shiftGroups >= 1, c % p.shiftGroups == 0 else {
                throw SpecError("cannot shift \(c) channels in \(p.shiftGroups) groups", at: location)
            }
            return shape(x)
        case .expandDepthwise(let f):
            let expanded = try inferShape(.conv(f.expand), at: location)
            guard f.depthwise.groups == expanded.channels, f.depthwise.outChannels == expanded.channels else {
                throw SpecError("banded expand and depthwise: the depthwise conv must have one group per expanded channel", at: location)
            }
            let h = (expanded.height + 2 * f.depthwise.padHeight - f.depthwise.kernelHeight) / f.depthwise.strideHeight + 1
            let w = (expanded.width + 2 * f.depthwise.padWidth - f.depthwise.kernelWidth) / f.depthwise.strideWidth + 1
            return TensorShape(channels: expanded.channels, height: h, width: w)
        case .dyShiftMax(let d):
            if let r = d.residual, shape(r) != shape(d.input) {
                throw SpecError("residual add of \(shape(r)) to \(shape(d.input)): shapes do not match", at: location)
            }
            return shape(d.input)
        case .scaleChannels(let x, let gate):
            guard shape(gate) == TensorShape(channels: shape(x).channels, height: 1, width: 1) else {
                throw SpecError("channel scale of \(shape(x)) by a gate of \(shape(gate))", at: location)
            }
            return shape(x)
        case .linear(let l):
            let x = shape(l.input)
            guard x.height == 1, x.width == 1 else {
                throw SpecError("linear layer needs a pooled C×1×1 input, found \(x); add 'avgpool' before it", at: location)
            }
            try checkSize(x, weights: l.outFeatures * x.channels, at: location)
            return TensorShape(channels: l.outFeatures, height: 1, width: 1)
        }
    }

    /// Sizes past 2^31 elements are mistakes, and would overflow MAC counts.
    private func checkSize(_ shape: TensorShape, weights: Int, at location: SourceLocation) throws {
        let limit = 1 << 31
        guard shape.elementCount <= limit, weights <= limit else {
            throw SpecError("absurd layer size: \(shape) output, \(weights) weights (at most 2^31 each)", at: location)
        }
    }

    /// Floats of workspace an op needs while it runs, beside its output. `inPlace`: the
    /// node writes over its input (a depthwise conv then keeps a line buffer).
    public func scratchElements(of node: Node, inPlace: Bool = false) -> Int {
        switch node.op {
        case .squeezeExcite(let se): return node.shape.channels + se.squeezeChannels  // pooled means, then squeezed
        case .dyShiftMax(let d): return node.shape.channels + d.squeezeChannels + node.shape.channels * d.params.coefficients
        case .expandDepthwise(let f):
            // A ring of expanded rows per band.
            let input = self.node(f.expand.input).shape
            return ExpandDepthwise.maxBands * f.ringFloats(inWidth: input.width)
        case .conv(let c) where inPlace && c.residual == nil:
            // One output row being computed, and for stride 1 the pad rows above it that
            // were overwritten but are still read. Split by rows, each band also keeps the
            // rows next to it that its neighbours overwrite.
            let x = self.node(c.input).shape
            let bands = inPlaceDepthwiseRowBands(of: node)
            if bands > 1 { return bands * (c.padHeight + c.kernelHeight) * x.width * x.channels }
            return node.shape.width * node.shape.channels + (c.strideHeight == 1 ? c.padHeight * x.width * x.channels : 0)
        default: return 0
        }
    }

    /// Whether every reader of the network input can read the caller's CHW image where it
    /// is (dense k×k convs with strided input), so the input needs no arena copy.
    public var imageReadDirectly: Bool {
        let readers = users(of: input.id)
        return !readers.isEmpty && input.id != output && readers.allSatisfy { node in
            guard case .conv(let c) = node.op else { return false }
            return c.groups == 1 && !c.isPointwise && c.residual == nil
        }
    }

    /// How many bands of rows threads split an in-place depthwise conv into (see
    /// `Kernels.depthwiseConvInPlace`): one, where they split its channels in chunks of 16,
    /// except for stride 1 over at most 32 channels (two chunks: each core would write
    /// every other cache line) and rows enough for bands of a kernel's height: then
    /// `ExpandDepthwise.maxBands`, the most threads bands are made for.
    public func inPlaceDepthwiseRowBands(of node: Node) -> Int {
        guard case .conv(let c) = node.op, c.strideHeight == 1 else { return 1 }
        let x = self.node(c.input).shape
        let bands = ExpandDepthwise.maxBands
        return x.channels <= 32 && x.height >= bands * c.kernelHeight ? bands : 1
    }

    /// Whether `node` can write its result over its depthwise input as it goes, keeping only
    /// a line buffer: rows it overwrites are either saved (stride 1) or never read again.
    public func depthwiseCanRunInPlace(_ node: Node) -> Bool {
        guard case .conv(let c) = node.op, c.residual == nil, c.outputShuffles.isEmpty else { return false }
        let x = self.node(c.input).shape
        guard c.groups == x.channels, c.outChannels == x.channels, c.padHeight < c.kernelHeight else { return false }
        switch c.strideHeight {
        case 1: return c.strideWidth == 1 && node.shape == x
        // Output row r covers input rows below r·outWidth/inWidth ≤ 3r/4, never read again when
        // the next rows start at 2r - 1: true for a pad of at most 1 (not for 5×5, pad 2).
        case 2: return c.padHeight <= 1 && node.shape.width <= x.width
        default: return false
        }
    }

    /// Creates the input node; must come first.
    public mutating func setInput(_ shape: TensorShape, origin: Origin) -> NodeID {
        precondition(nodes.isEmpty)
        let id = NodeID(nextID)
        nextID += 1
        nodes.append(Node(id: id, op: .input, shape: shape, name: "input", origin: origin))
        output = id
        return id
    }
}
