// swift-tools-version:6.0
// Single kernels of the runtime, timed in isolation, outside the network (see main.swift).
// Not part of the speccc package: build it on its own, in release, for this CPU:
//   swift build -c release -Xswiftc -target-cpu -Xswiftc native
// (unsafeFlags in a dependency are not honoured, so the flag must come from here).
import PackageDescription

let package = Package(
    name: "kernelbench",
    dependencies: [.package(name: "speccc", path: "../..")],
    targets: [
        .executableTarget(name: "kernelbench", dependencies: [.product(name: "SpecRuntime", package: "speccc")]),
    ]
)
