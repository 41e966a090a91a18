// swift-tools-version:6.0
// SwiftTML — Twitter's Heavy Ranker and TwHIN in Swift. See README.md and docs/.
import PackageDescription

let optimized: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
  name: "SwiftTML",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "TMLTensor", targets: ["TMLTensor"]),
    .library(name: "TMLNN", targets: ["TMLNN"]),
    .library(name: "TMLIO", targets: ["TMLIO"]),
    .library(name: "TMLData", targets: ["TMLData"]),
    .library(name: "TMLMetrics", targets: ["TMLMetrics"]),
    .library(name: "TwHIN", targets: ["TwHIN"]),
    .executable(name: "tml", targets: ["tml"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
    // Our AVX-512 kernels (SGEMM, Adam); always built optimised (tests run debug builds of
    // everything else), without fusing a·b + c into FMAs the Swift fallbacks do not use.
    .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
    .target(
      name: "TMLTensor", dependencies: ["CKernels", .target(name: "CBLAS", condition: .when(platforms: [.linux]))],
      swiftSettings: optimized),
    // Throwing POSIX file writes and Foundation file errors as one-line messages.
    .target(name: "TMLIO", swiftSettings: optimized),
    .target(name: "TMLNN", dependencies: ["TMLTensor", "TMLIO"], swiftSettings: optimized),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
    .systemLibrary(
      name: "CSnappy", path: "Sources/CSnappy",
      providers: [.apt(["libsnappy-dev"]), .brew(["snappy"])]),
    .systemLibrary(
      name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
    .systemLibrary(
      name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
      providers: [.apt(["libopenmpi-dev", "openmpi-bin"]), .brew(["open-mpi"])]),
    // Ranks and collectives: MPI under mpirun, a world of one (no MPI) otherwise.
    .target(name: "TMLDistributed", dependencies: ["CMPI"], swiftSettings: optimized),
    .target(
      name: "TMLData",
      dependencies: ["CZlib", "CSnappy", "CZstd", "TMLTensor", "TMLIO", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      swiftSettings: optimized),
    .target(
      name: "TMLTrain",
      dependencies: ["TMLIO", "TMLTensor", "TMLNN", "TMLData", "TMLMetrics", "TMLDistributed", .product(name: "Yams", package: "Yams")],
      swiftSettings: optimized),
    .target(name: "TMLMetrics", swiftSettings: optimized),
    .target(name: "Recap", dependencies: ["TMLIO", "TMLTensor", "TMLNN", "TMLData", "TMLMetrics", "TMLTrain", "TMLDistributed"], swiftSettings: optimized),
    .target(name: "TwHIN", dependencies: ["TMLIO", "TMLTensor", "TMLNN", "TMLMetrics", "TMLData", "TMLTrain", "TMLDistributed"], swiftSettings: optimized),
    .target(
      name: "ForYou", dependencies: ["TMLTensor", "TMLNN", "TMLData", "TMLMetrics", "TMLTrain", "Recap", "TwHIN"],
      swiftSettings: optimized),
    .target(name: "TMLBench", dependencies: ["TMLTensor", "TMLNN", "TMLData", "TMLTrain", "Recap", "TwHIN", "TMLDistributed", "TMLServe"], swiftSettings: optimized),
    // HTTP ranking service: /v1/rank, /v1/neighbors, /v1/feed, micro-batching, reload, Prometheus metrics.
    .target(
      name: "TMLServe",
      dependencies: [
        "TMLTensor", "TMLNN", "TMLData", "Recap", "TwHIN", "ForYou",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: optimized),
    .executableTarget(
      name: "tml",
      dependencies: ["TMLIO", "TMLTensor", "TMLNN", "TMLData", "TMLTrain", "Recap", "TwHIN", "TMLMetrics", "TMLBench", "ForYou", "TMLDistributed", "TMLServe", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: optimized),
    .testTarget(name: "TMLIOTests", dependencies: ["TMLIO"]),
    .testTarget(name: "TMLDistributedTests", dependencies: ["TMLDistributed", "TMLNN", "TMLTensor"]),
    .testTarget(name: "TMLTensorTests", dependencies: ["TMLTensor"]),
    .testTarget(name: "TMLNNTests", dependencies: ["TMLNN", "TMLTensor"]),
    .testTarget(name: "TMLDataTests", dependencies: ["TMLData", "TMLIO"]),
    .testTarget(name: "TMLMetricsTests", dependencies: ["TMLMetrics"], exclude: ["Fixtures"]),
    .testTarget(name: "TwHINTests", dependencies: ["TwHIN", "TMLNN", "TMLTensor", "TMLMetrics", "TMLTrain", "TMLData"]),
    .testTarget(name: "ForYouTests", dependencies: ["ForYou", "Recap", "TwHIN", "TMLData", "TMLMetrics", "TMLTensor"]),
    .testTarget(name: "RecapTests", dependencies: ["Recap", "TMLNN", "TMLTensor", "TMLData", "TMLTrain", "TMLIO", "TMLDistributed"]),
    .testTarget(
      name: "TMLServeTests",
      dependencies: [
        "TMLServe", "Recap", "TwHIN", "ForYou", "TMLData", "TMLTensor", "TMLNN",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(name: "TMLTrainTests", dependencies: ["TMLTrain", "TMLNN", "TMLTensor", "TMLData", "TMLIO"]),
  ],
  swiftLanguageModes: [.v5]
)
