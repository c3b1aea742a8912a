import AllocationCounter
import ParityNetworks
import SpecNetworks
import SpecRuntime
import Testing

/// After initialization an inference performs no heap allocation: the arena, the weights
/// and the worker threads are all made by `init`.
@Suite(.serialized) struct AllocationTests {
    static let networks: [any CompiledNetwork.Type] = SpecNetworks.CompiledNetworks.all + ParityNetworks.CompiledNetworks.all
    static let names = networks.map { network in network.info.name }

    @Test("an inference allocates nothing, on every network", arguments: names)
    func oneThread(network name: String) throws {
        try inferenceDoesNotAllocate(network: name, threads: 1)
    }

    /// The thread pool's path, on one network of each kind (one thread runs the same kernels).
    @Test("an inference with two threads allocates nothing", arguments: ParityNetworks.CompiledNetworks.all.map { network in network.info.name })
    func twoThreads(network name: String) throws {
        try inferenceDoesNotAllocate(network: name, threads: 2)
    }

    @Test("a batch on two threads, images side by side, allocates nothing")
    func batchSideBySide() throws {
        let info = ParityV3LargeTimm.info
        let model = try ParityV3LargeTimm(checkpoint: SyntheticCheckpoint(info), threads: 2)
        let count = 3
        let images = UnsafeMutablePointer<Float>.allocate(capacity: count * info.inputElements)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: count * info.classes)
        defer { images.deallocate(); logits.deallocate() }
        images.initialize(repeating: 0.5, count: count * info.inputElements)
        model.predict(images: images, count: count, logits: logits)  // warm-up

        let before = allocation_count_this_thread()
        for _ in 0..<2 { model.predict(images: images, count: count, logits: logits) }
        let after = allocation_count_this_thread()

        #expect(after - before == 0, "\(after - before) allocations in 2 batches")
    }

    func inferenceDoesNotAllocate(network name: String, threads: Int) throws {
        let network = try #require(Self.networks.first { $0.info.name == name })
        let info = network.info
        let model = try network.init(checkpoint: SyntheticCheckpoint(info), convention: nil, threads: threads)
        let image = UnsafeMutablePointer<Float>.allocate(capacity: info.inputElements)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: info.classes)
        defer { image.deallocate(); logits.deallocate() }
        image.initialize(repeating: 0.5, count: info.inputElements)
        model.run(image: image, logits: logits)  // warm-up

        // Counts this thread's allocations; with 2 threads the worker runs the same kernel
        // code on other parts of the same tensors.
        let before = allocation_count_this_thread()
        for _ in 0..<3 { model.run(image: image, logits: logits) }
        let after = allocation_count_this_thread()

        #expect(after - before == 0, "\(after - before) allocations in 3 inferences")
    }

    @Test("the allocation counter sees allocations")
    func counterWorks() {
        let before = allocation_count_this_thread()
        let array = [Int](repeating: 7, count: Int.random(in: 100...200))
        #expect(allocation_count_this_thread() > before)
        #expect(array.count >= 100)
    }
}
