// swift-tools-version: 6.0
import PackageDescription

// Generated networks are hot numeric code: compile them for this CPU (AVX-512 FMA here).
// Only targets that no other package links get this flag; the runtime stays portable and
// its kernels are @inlinable, so they are specialized inside the networks' module.
let nativeCPU: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native"])]
// Networks are numeric code that is useless unoptimized, so they are optimized in debug
// builds too; tests that run them then take seconds, not minutes.
let networkSettings: [SwiftSetting] = nativeCPU + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "speccc",
    products: [
        .library(name: "SpecRuntime", targets: ["SpecRuntime"]),
        .executable(name: "speccc", targets: ["speccc"]),
        .plugin(name: "SpecccPlugin", targets: ["SpecccPlugin"]),
    ],
    targets: [
        // The compiler: Spec -> IR -> Passes -> Codegen, each depending only on the one before.
        .target(name: "SpecLang"),
        .target(name: "SpecIR", dependencies: ["SpecLang"]),
        .target(name: "SpecPasses", dependencies: ["SpecIR"]),
        .target(name: "SpecCodegen", dependencies: ["SpecPasses"]),
        .target(name: "SpecccCLI", dependencies: ["SpecCodegen"]),
        .executableTarget(name: "speccc", dependencies: ["SpecccCLI"]),
        .plugin(name: "SpecccPlugin", capability: .buildTool(), dependencies: ["speccc"]),

        // What generated code imports; knows nothing of the compiler.
        .target(name: "SpecRuntime", dependencies: ["SpecSIMD"]),
        .target(name: "SpecSIMD"),

        // Every network in Specs/ (through a directory symlink), compiled by the plugin.
        .target(
            name: "SpecNetworks", dependencies: ["SpecRuntime"],
            swiftSettings: networkSettings, plugins: ["SpecccPlugin"]),
        .target(name: "SpecRun", dependencies: ["SpecRuntime"]),
        .executableTarget(
            name: "specrun", dependencies: ["SpecRun", "SpecNetworks"], swiftSettings: nativeCPU),

        // Small fixture-sized networks for the parity tests, compiled by the same plugin.
        .target(
            name: "ParityNetworks", dependencies: ["SpecRuntime"], path: "Tests/ParityNetworks",
            swiftSettings: networkSettings, plugins: ["SpecccPlugin"]),

        .testTarget(name: "SpecLangTests", dependencies: ["SpecLang"]),
        .testTarget(name: "SpecIRTests", dependencies: ["SpecIR"]),
        .testTarget(name: "SpecPassesTests", dependencies: ["SpecPasses"]),
        .testTarget(name: "SpecCodegenTests", dependencies: ["SpecCodegen"]),
        .testTarget(name: "SpecccCLITests", dependencies: ["SpecccCLI"]),
        // Optimized and for this CPU, as the networks are: the kernels are then specialized
        // here and take the same paths (AVX-512's wider tiles) that the networks take.
        .testTarget(name: "SpecRuntimeTests", dependencies: ["SpecRuntime"], swiftSettings: networkSettings),
        // Counts heap allocations per thread by interposing malloc in the test binary.
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(
            name: "NetworkTests",
            dependencies: ["SpecRuntime", "SpecRun", "SpecNetworks", "ParityNetworks", "AllocationCounter"],
            swiftSettings: nativeCPU),
    ]
)
