/// Where each tensor of one inference lives in the arena: the plan-memory pass's result.
public struct MemoryPlan: Hashable, Sendable {
    /// A byte range of the arena holding one tensor, or a chain of tensors when in-place
    /// ops write their result over their input.
    public struct Buffer: Hashable, Sendable {
        /// The tensor that creates the buffer first, then those written over it in place.
        /// Empty for a scratch buffer.
        public var tensors: [NodeID]
        /// Set for the workspace an op needs while it runs (the SE gate, say).
        public var scratchOf: NodeID?
        public var offset: Int
        public var size: Int
        /// Live range in schedule steps (indices into `Graph.nodes`), both ends included.
        public var firstStep: Int
        public var lastStep: Int

        public init(tensors: [NodeID], scratchOf: NodeID? = nil, offset: Int, size: Int, firstStep: Int, lastStep: Int) {
            self.tensors = tensors
            self.scratchOf = scratchOf
            self.offset = offset
            self.size = size
            self.firstStep = firstStep
            self.lastStep = lastStep
        }

        public func overlapsInTime(_ other: Buffer) -> Bool {
            firstStep <= other.lastStep && other.firstStep <= lastStep
        }

        public func overlapsInSpace(_ other: Buffer) -> Bool {
            offset < other.offset + other.size && other.offset < offset + size
        }
    }

    public var buffers: [Buffer]
    /// Whether the network input has a buffer; when not, its readers read the caller's image.
    public var inputInArena: Bool
    /// Nodes that write their result over one of their operands, which dies there:
    /// node → the operand it overwrites.
    public var overwrites: [NodeID: NodeID]
    /// Every buffer's offset is a multiple of this (bytes), for aligned SIMD access.
    public var alignment: Int
    /// The arena this plan needs.
    public var arenaBytes: Int
    /// The most bytes live at any one step: no plan of this schedule can be smaller.
    public var lowerBoundBytes: Int
    /// Every tensor in its own buffer.
    public var naiveBytes: Int
    /// What plain greedy-by-size offset assignment achieves, for comparison.
    public var greedyBytes: Int
    /// The lower bound of the same schedule with every tensor in a buffer of its own
    /// (no in-place execution): what in-place execution saves.
    public var lowerBoundWithoutInPlaceBytes: Int

    public init(buffers: [Buffer], inputInArena: Bool = true, overwrites: [NodeID: NodeID] = [:], alignment: Int, arenaBytes: Int,
                lowerBoundBytes: Int, naiveBytes: Int, greedyBytes: Int, lowerBoundWithoutInPlaceBytes: Int = 0) {
        self.buffers = buffers
        self.inputInArena = inputInArena
        self.overwrites = overwrites
        self.lowerBoundWithoutInPlaceBytes = lowerBoundWithoutInPlaceBytes
        self.alignment = alignment
        self.arenaBytes = arenaBytes
        self.lowerBoundBytes = lowerBoundBytes
        self.naiveBytes = naiveBytes
        self.greedyBytes = greedyBytes
    }

    public func buffer(of tensor: NodeID) -> Buffer? {
        buffers.first { $0.tensors.contains(tensor) }
    }

    public func scratch(of node: NodeID) -> Buffer? {
        buffers.first { $0.scratchOf == node }
    }
}
