// swift-tools-version:6.0
// Measures the two PostgreSQL clients (issue 23); how to run it and the figures: docs/BENCHMARKS.md. Not part of the
// package: build it on its own (`cd scripts/pg-clients && swift build -c release`).
import PackageDescription

let package = Package(
    name: "pgclient",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
        .executableTarget(name: "pgclient", dependencies: ["CLibPQ", .product(name: "PostgresNIO", package: "postgres-nio")]),
    ]
)
