// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Loupe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "loupe", targets: ["loupe"]),
        .library(name: "LoupeTensor", targets: ["LoupeTensor"]),
        .library(name: "LoupeCLIP", targets: ["LoupeCLIP"]),
        .library(name: "LoupeMedia", targets: ["LoupeMedia"]),
        .library(name: "LoupeStore", targets: ["LoupeStore"]),
        .library(name: "Loupe", targets: ["Loupe"]),
        .library(name: "LoupeServer", targets: ["LoupeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .target(name: "LoupeTensor", dependencies: ["CDNNL"]),
        .target(name: "LoupeCLIP", dependencies: ["LoupeTensor"]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg"),
        .target(name: "LoupeMedia", dependencies: ["CFFmpeg"]),
        .target(name: "CLoupeSIMD", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "LoupeStore",
            dependencies: ["CLoupeSIMD", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Loupe",
            dependencies: [
                "LoupeCLIP", "LoupeMedia", "LoupeTensor", "LoupeStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "LoupeServer",
            dependencies: [
                "Loupe", "LoupeMedia", "LoupeStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Web"]
        ),
        .executableTarget(
            name: "loupe",
            dependencies: [
                "Loupe", "LoupeCLIP", "LoupeMedia", "LoupeStore", "LoupeServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LoupeTensorTests", dependencies: ["LoupeTensor"]),
        .testTarget(
            name: "LoupeTests",
            dependencies: [
                "Loupe",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LoupeCLIPTests", dependencies: ["LoupeCLIP", "LoupeMedia"]),
        .testTarget(name: "LoupeStoreTests", dependencies: ["LoupeStore"]),
        .testTarget(name: "LoupeMediaTests", dependencies: ["LoupeMedia", "LoupeCLIP"]),
        .testTarget(
            name: "LoupeServerTests",
            dependencies: [
                "LoupeServer", "Loupe", "LoupeStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
