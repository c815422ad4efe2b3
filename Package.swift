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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .target(name: "LoupeTensor", dependencies: ["CDNNL"]),
        .target(name: "LoupeCLIP", dependencies: ["LoupeTensor"]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg"),
        .target(name: "LoupeMedia", dependencies: ["CFFmpeg"]),
        .executableTarget(
            name: "loupe",
            dependencies: [
                "LoupeCLIP", "LoupeMedia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LoupeTensorTests", dependencies: ["LoupeTensor"]),
        .testTarget(name: "LoupeCLIPTests", dependencies: ["LoupeCLIP", "LoupeMedia"]),
        .testTarget(name: "LoupeMediaTests", dependencies: ["LoupeMedia", "LoupeCLIP"]),
    ],
    swiftLanguageModes: [.v6]
)
