import SpecIR
import SpecLang

/// Gives every tensor (and every op's scratch) a byte range of one arena, reusing the
/// space of tensors that are no longer live. The arena size is then a compile-time constant.
public struct PlanMemory: Pass {
    public let name = "plan-memory"
    public let summary = "assign every tensor an offset in one arena, reusing dead tensors' space"
    public static let alignment = 64
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        let steps = graph.nodes.count
        let separate = Liveness.buffers(of: graph, overwrites: [:], alignment: Self.alignment)
        let separateBound = Liveness.lowerBound(separate, steps: steps)
        var overwrites = Liveness.overwrites(in: graph)
        var requests = Liveness.buffers(of: graph, overwrites: overwrites, alignment: Self.alignment)
        var bound = Liveness.lowerBound(requests, steps: steps)
        var placed = OffsetAssignment.best(requests, lowerBound: bound)
        // In-place execution brings line buffers too; in a tiny graph they can outweigh what
        // it saves. Keep whichever plan is smaller (SE always scales in place).
        let required = overwrites.filter { if case .squeezeExcite = graph.node($0.key).op { return true } else { return false } }
        if required.count < overwrites.count {
            let fewer = Liveness.buffers(of: graph, overwrites: required, alignment: Self.alignment)
            let fewerBound = Liveness.lowerBound(fewer, steps: steps)
            if fewerBound < OffsetAssignment.arena(placed) {
                let fewerPlaced = OffsetAssignment.best(fewer, lowerBound: fewerBound)
                if OffsetAssignment.arena(fewerPlaced) < OffsetAssignment.arena(placed) {
                    (overwrites, requests, bound, placed) = (required, fewer, fewerBound, fewerPlaced)
                }
            }
        }
        graph.memoryPlan = MemoryPlan(
            buffers: placed, inputInArena: !graph.imageReadDirectly, overwrites: overwrites, alignment: Self.alignment, arenaBytes: OffsetAssignment.arena(placed),
            lowerBoundBytes: bound, naiveBytes: separate.reduce(0) { $0 + $1.size },
            greedyBytes: OffsetAssignment.arena(OffsetAssignment.greedyBySize(requests)),
            lowerBoundWithoutInPlaceBytes: separateBound)
        return true
    }
}

/// Live ranges over the schedule (the graph's node order).
public enum Liveness {
    /// When each tensor is last read (the output: at the end).
    public static func lastReads(_ graph: Graph) -> [NodeID: Int] {
        var lastRead: [NodeID: Int] = [:]
        for (step, node) in graph.nodes.enumerated() {
            for operand in node.op.operands { lastRead[operand] = step }
        }
        lastRead[graph.output] = graph.nodes.count - 1
        return lastRead
    }

    /// Which nodes write over which operand: squeeze-excite always (it scales in place); a
    /// layer with a residual over the residual, a depthwise conv over its input, and an
    /// elementwise op over an operand, when that operand is read for the last time there
    /// and is not the network's output.
    public static func overwrites(in graph: Graph) -> [NodeID: NodeID] {
        let lastRead = lastReads(graph)
        var overwrites: [NodeID: NodeID] = [:]
        for (step, node) in graph.nodes.enumerated() {
            func dies(_ id: NodeID) -> Bool { lastRead[id] == step && id != graph.output && graph.node(id).shape == node.shape }
            switch node.op {
            case .squeezeExcite(let se):
                overwrites[node.id] = se.input
            case .conv(let c) where c.residual != nil:
                if dies(c.residual!) { overwrites[node.id] = c.residual! }
            case .dyShiftMax(let d) where d.residual != nil:
                if dies(d.residual!) { overwrites[node.id] = d.residual! }
            case .conv(let c) where graph.depthwiseCanRunInPlace(node):
                // Only when its line buffer is smaller than the output it saves.
                if lastRead[c.input] == step, c.input != graph.output,
                   graph.scratchElements(of: node, inPlace: true) < node.shape.elementCount {
                    overwrites[node.id] = c.input
                }
            case .activation(let x, _):
                if dies(x) { overwrites[node.id] = x }
            case .add(let a, let b):
                if dies(a) { overwrites[node.id] = a } else if dies(b) { overwrites[node.id] = b }
            default:
                break
            }
        }
        return overwrites
    }

    /// One unplaced buffer (offset 0) per tensor chain and per scratch need.
    public static func buffers(of graph: Graph, overwrites: [NodeID: NodeID], alignment: Int) -> [MemoryPlan.Buffer] {
        let lastRead = lastReads(graph)
        func bytes(_ floats: Int) -> Int { (floats * MemoryLayout<Float>.size + alignment - 1) / alignment * alignment }

        var buffers: [MemoryPlan.Buffer] = []
        var bufferOf: [NodeID: Int] = [:]
        let imageReadDirectly = graph.imageReadDirectly
        for (step, node) in graph.nodes.enumerated() {
            if node.op == .input && imageReadDirectly { continue }  // read from the caller's image
            if let x = overwrites[node.id], let index = bufferOf[x] {
                buffers[index].tensors.append(node.id)
                buffers[index].lastStep = max(buffers[index].lastStep, lastRead[node.id] ?? step)
                bufferOf[node.id] = index
            } else {
                bufferOf[node.id] = buffers.count
                buffers.append(.init(tensors: [node.id], offset: 0, size: bytes(node.shape.elementCount),
                                     firstStep: step, lastStep: lastRead[node.id] ?? step))
            }
            let scratch = graph.scratchElements(of: node, inPlace: overwrites[node.id] != nil)
            if scratch > 0 {
                buffers.append(.init(tensors: [], scratchOf: node.id, offset: 0, size: bytes(scratch), firstStep: step, lastStep: step))
            }
        }
        return buffers
    }

    /// The most bytes live at one step: no offset assignment can use less.
    public static func lowerBound(_ buffers: [MemoryPlan.Buffer], steps: Int) -> Int {
        var live = [Int](repeating: 0, count: steps + 1)
        for buffer in buffers {
            for step in buffer.firstStep...buffer.lastStep { live[step] += buffer.size }
        }
        return live.max() ?? 0
    }
}

public enum OffsetAssignment {
    public static func arena(_ buffers: [MemoryPlan.Buffer]) -> Int {
        buffers.map { $0.offset + $0.size }.max() ?? 0
    }

    /// Largest buffers first, each at the lowest offset where it fits beside the buffers
    /// already placed that are live at the same time (TFLite's "greedy by size").
    public static func greedyBySize(_ buffers: [MemoryPlan.Buffer]) -> [MemoryPlan.Buffer] {
        place(buffers, order: buffers.indices.sorted { (buffers[$0].size, -buffers[$0].firstStep) > (buffers[$1].size, -buffers[$1].firstStep) })
    }

    /// The smallest arena found: several deterministic placement orders, then seeded random
    /// perturbations of the best one, stopping as soon as a plan meets the lower bound.
    public static func best(_ buffers: [MemoryPlan.Buffer], lowerBound: Int, attempts: Int = 2000) -> [MemoryPlan.Buffer] {
        let indices = Array(buffers.indices)
        let orders: [[Int]] = [
            indices.sorted { (buffers[$0].size, -buffers[$0].firstStep) > (buffers[$1].size, -buffers[$1].firstStep) },
            indices.sorted { (buffers[$0].firstStep, -buffers[$0].size) < (buffers[$1].firstStep, -buffers[$1].size) },
            indices.sorted { (buffers[$0].lastStep - buffers[$0].firstStep, buffers[$0].size) > (buffers[$1].lastStep - buffers[$1].firstStep, buffers[$1].size) },
            indices.sorted { buffers[$0].size * (buffers[$0].lastStep - buffers[$0].firstStep + 1) > buffers[$1].size * (buffers[$1].lastStep - buffers[$1].firstStep + 1) },
            breadthOrder(buffers),
        ]
        var bestOrder = orders[0]
        var bestPlan = place(buffers, order: bestOrder)
        for order in orders.dropFirst() where arena(bestPlan) > lowerBound {
            let plan = place(buffers, order: order)
            if arena(plan) < arena(bestPlan) { (bestOrder, bestPlan) = (order, plan) }
        }
        // Local search: swap two buffers' places in the order; keep what does not grow the arena.
        var random = SplitMix(state: 0x5EC_CC)
        var attempt = 0
        while arena(bestPlan) > lowerBound, attempt < attempts, buffers.count > 1 {
            attempt += 1
            var order = bestOrder
            let i = Int(random.next() % UInt64(order.count)), j = Int(random.next() % UInt64(order.count))
            order.swapAt(i, j)
            let plan = place(buffers, order: order)
            if arena(plan) <= arena(bestPlan) { (bestOrder, bestPlan) = (order, plan) }
        }
        return bestPlan
    }

    /// TFLite's "greedy by breadth": steps by how much is live there, largest first; at each,
    /// its unplaced buffers by size.
    static func breadthOrder(_ buffers: [MemoryPlan.Buffer]) -> [Int] {
        let steps = (buffers.map(\.lastStep).max() ?? 0) + 1
        var live = [Int](repeating: 0, count: steps)
        for b in buffers { for step in b.firstStep...b.lastStep { live[step] += b.size } }
        var order: [Int] = []
        var taken = Set<Int>()
        for step in (0..<steps).sorted(by: { live[$0] > live[$1] }) {
            let here = buffers.indices.filter { !taken.contains($0) && buffers[$0].firstStep <= step && step <= buffers[$0].lastStep }
            for index in here.sorted(by: { buffers[$0].size > buffers[$1].size }) {
                order.append(index)
                taken.insert(index)
            }
        }
        return order
    }

    /// Places buffers in `order`, each at its lowest fitting offset.
    static func place(_ buffers: [MemoryPlan.Buffer], order: [Int]) -> [MemoryPlan.Buffer] {
        var placed: [MemoryPlan.Buffer] = []
        placed.reserveCapacity(buffers.count)
        var result = buffers
        for index in order {
            var buffer = buffers[index]
            buffer.offset = lowestFit(buffer, among: placed)
            placed.append(buffer)
            result[index] = buffer
        }
        return result
    }

    /// The lowest offset at which `buffer` overlaps no time-overlapping buffer of `placed`.
    static func lowestFit(_ buffer: MemoryPlan.Buffer, among placed: [MemoryPlan.Buffer]) -> Int {
        let conflicts = placed.filter { $0.overlapsInTime(buffer) }.sorted { $0.offset < $1.offset }
        var offset = 0
        for other in conflicts {
            if offset + buffer.size <= other.offset { break }
            offset = max(offset, other.offset + other.size)
        }
        return offset
    }
}

/// Seeded, reproducible random numbers (SplitMix64) for the planner's search, and for tests
/// that generate graphs or edit specs at random. (The runtime has its own copy for synthetic
/// weights: it knows nothing of the compiler.)
public struct SplitMix {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
