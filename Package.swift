// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "AllowanceLedger",
    products: [
        .executable(name: "allowance", targets: ["LedgerCLI"]),
        .executable(name: "allowance-fuzz", targets: ["Fuzz"]),
        .library(name: "AllowanceLedger", targets: ["AllowanceLedger"]),
        .library(name: "Reconcile", targets: ["Reconcile"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        // The web application (issue 20): the HTTP server and its test client; bcrypt from hummingbird-auth.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        // Zip archives: the audit export the server hands out, and the xlsx workbooks read and written.
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
    ],
    targets: [
        // SHA-256 and HMAC from the system's OpenSSL libcrypto (libssl-dev).
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The one SQLite setting Swift cannot reach: sqlite3_config is variadic. Links the system libsqlite3, as GRDB does.
        .target(
            name: "CSQLiteTuning",
            dependencies: ["CLibCrypto"],
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        // The domain: values, rules, files (CSV and xlsx), crypto, wording. No database.
        .target(
            name: "AllowanceLedger",
            dependencies: [
                "CLibCrypto",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // The words of each language, compiled into the binary: one file, no resource bundle to lose.
            resources: [.embedInCode("Wording/en.strings"), .embedInCode("Wording/vi.strings")]
        ),
        // Reconciliation: carrier profiles, the result-file reader, the matcher, the session and its service.
        .target(
            name: "Reconcile",
            dependencies: ["AllowanceLedger"]
        ),
        // The ledger on SQLite: GRDB, the schema and its migrations, every SQL statement, each feature's storage.
        .target(
            name: "LedgerSQLite",
            dependencies: [
                "AllowanceLedger",
                "Reconcile",
                "CSQLiteTuning",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libpq, PostgreSQL's C client (libpq-dev): synchronous like the storage seam, COPY built in (issue 23).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The ledger on PostgreSQL (issue 23): so far the connection (URI, parameters, COPY, transactions, SQLSTATEs).
        .target(
            name: "LedgerPostgres",
            dependencies: ["AllowanceLedger", "CLibPQ"]
        ),
        // The composition root: opens a ledger on its backend and hands out the services. The CLI's only way in.
        .target(
            name: "AllowanceOffice",
            dependencies: ["AllowanceLedger", "Reconcile", "LedgerSQLite", "LedgerPostgres"]
        ),
        // What the CLI prints with --json and the server answers: one rendering for both.
        .target(
            name: "AllowanceViews",
            dependencies: ["AllowanceLedger", "Reconcile"]
        ),
        // The office's web application (`allowance serve`): sessions, roles, the JSON API, the pages.
        .target(
            name: "AllowanceServer",
            dependencies: [
                "AllowanceLedger",
                "AllowanceOffice",
                "AllowanceViews",
                "Reconcile",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // The pages' templates, words and stylesheet, compiled into the binary: nothing to install beside it.
            resources: [
                .embedInCode("Pages/vi.strings"), .embedInCode("Pages/en.strings"), .embedInCode("Pages/app.css"), .embedInCode("Pages/favicon.svg"),
                .embedInCode("Pages/layout.mustache"), .embedInCode("Pages/login.mustache"),
                .embedInCode("Pages/dashboard.mustache"), .embedInCode("Pages/batch.mustache"), .embedInCode("Pages/problem.mustache"),
                .embedInCode("Pages/batches.mustache"), .embedInCode("Pages/registers.mustache"), .embedInCode("Pages/reconcile.mustache"),
                .embedInCode("Pages/audit.mustache"), .embedInCode("Pages/activity.mustache"), .embedInCode("Pages/accounts.mustache"),
                .embedInCode("Pages/beneficiaries.mustache"), .embedInCode("Pages/beneficiary.mustache"),
            ]
        ),
        .executableTarget(
            name: "LedgerCLI",
            dependencies: [
                "AllowanceLedger",
                "AllowanceOffice",
                "AllowanceViews",
                "AllowanceServer",
                "Reconcile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The fuzz targets of issue 7 and their driver: libFuzzer when built by scripts/fuzz.sh, a seeded mutator
        // otherwise (the test command's short pass).
        .target(
            name: "FuzzTargets",
            dependencies: ["AllowanceLedger", "AllowanceOffice", "Reconcile"]
        ),
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "Fuzz",
            dependencies: ["AllowanceLedger", "FuzzTargets", "CFuzzDriver"]
        ),
        .testTarget(
            name: "AllowanceLedgerTests",
            dependencies: [
                "AllowanceLedger",
                "LedgerSQLite",
                "Reconcile",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            // Scripts written as an outsider would (the insider's rewrite of the chain), run by the tests with python3.
            exclude: ["Scripts"],
            resources: [.copy("Golden")]
        ),
        // The PostgreSQL client against a real server: `.ci/run` starts a throwaway cluster and points
        // ALLOWANCE_TEST_POSTGRES at it; elsewhere the cases say they were skipped and why.
        .testTarget(
            name: "PostgresTests",
            dependencies: ["LedgerPostgres", "LedgerSQLite", "AllowanceLedger", "AllowanceOffice"]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "AllowanceServer",
                "AllowanceLedger",
                "AllowanceOffice",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .testTarget(
            name: "ReconcileTests",
            dependencies: [
                "Reconcile",
                "AllowanceLedger",
                "LedgerSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
