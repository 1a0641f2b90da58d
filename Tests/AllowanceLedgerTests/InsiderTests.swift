import Foundation
import GRDB
import Testing
@testable import AllowanceLedger
@testable import Reconcile
@testable import LedgerSQLite

/// Issue 19's reproductions that this round closes: each one did harm on the code before it.
@Suite(.timeLimit(.minutes(2)))
struct InsiderTests {
    /// Runs the demo in a fresh folder of a sandbox: a ledger with an exported, reconciled month and every kind of file
    /// the CLI writes.
    func demo(_ sandbox: CLISandbox) throws -> String {
        let folder = sandbox.directory.file("demo")
        let run = try sandbox.run(["demo", "--dir", folder, "--count", "40"])
        sandbox.expectSuccess(run)
        return folder
    }

    /// (10) A `"` followed by a combining mark is one Character but two scalars: it must not reach HTML as a raw quote.
    @Test func htmlEscapesEveryQuoteScalar() {
        let escaped = htmlEscaped("x\"\u{301} onmouseover=alert(1) '\u{301}<\u{338}")
        #expect(!escaped.unicodeScalars.contains("\""))
        #expect(!escaped.unicodeScalars.contains("'"))
        #expect(!escaped.unicodeScalars.contains("<"))
        #expect(escaped.hasPrefix("x&quot;\u{301}"))
    }

    /// (10) A FIFO named as a file we read is refused at once instead of waiting for a writer forever; so is a device.
    @Test func aFIFOOrADeviceIsRefusedWithoutBlocking() throws {
        let folder = TemporaryDirectory()
        let fifo = folder.file("manifest.sig")
        try #require(mkfifo(fifo, 0o600) == 0)
        #expect(throws: AuditVerifyError.self) { try AuditVerifier.readSmallFile(fifo, max: 1024) }
        #expect(throws: FileError.self) { try CSVReader(path: fifo) }
        #expect(throws: FileError.self) { try fileSHA256(path: fifo) }
        do {
            _ = try Files.openRegular(fifo)
            Issue.record("a FIFO was opened")
        } catch {
            #expect(error.reason.contains("not a regular file"))
        }
        // (10) A profile is refused before it is read: /dev/zero would never end.
        #expect(throws: ProfileError.self) { try CarrierProfile(contentsOf: "/dev/zero") }
        #expect(throws: ProfileError.self) { try CarrierProfile(contentsOf: fifo) }
    }

    /// (10) A profile over 1 MiB is refused by its size, before its bytes are read.
    @Test func anOversizedProfileIsRefusedByItsSize() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("big.profile")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 64 << 20) == 0)
        do {
            _ = try CarrierProfile(contentsOf: path)
            Issue.record("a 64 MiB profile was read")
        } catch {
            #expect(error.reason.contains("over 1 MiB"))
        }
    }

    /// (8) A link planted where the writer used to put its temporary file (`OUT.tmp-PID`) is neither followed nor
    /// removed: the file it points to keeps its bytes, and the output lands whole.
    @Test func aPlantedLinkAtTheTemporaryNameIsNotFollowed() throws {
        let folder = TemporaryDirectory()
        let victim = folder.write("victim.txt", "keep me\n")
        let out = folder.file("out.csv")
        try FileManager.default.createSymbolicLink(atPath: "\(out).tmp-\(getpid())", withDestinationPath: victim)
        let writer = try CSVWriter(path: out)
        try writer.row(["a", "b"])
        try writer.commit()
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "a,b\n")
        try writeTextFile("whole\n", to: out)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "whole\n")
    }

    /// (8) Removing a temporary folder never follows a link to someone else's folder, nor removes what was there before.
    @Test func removingATemporaryFolderNeverFollowsALink() throws {
        let folder = TemporaryDirectory()
        let victim = folder.file("victim")
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: false)
        folder.write("victim/data.csv", "1\n")
        let planted = folder.file("export.tmp-\(getpid())")
        try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: victim)
        let staging = try Files.createTemporaryFolder(beside: folder.file("export"), mode: 0o700)
        #expect(staging != planted)
        Files.removeCreatedFolder(planted)
        Files.removeCreatedFolder(staging)
        #expect(FileManager.default.fileExists(atPath: folder.file("victim/data.csv")))
        #expect(!FileManager.default.fileExists(atPath: staging))
    }

    /// (6) Everything the CLI writes is its owner's alone: the ledger and its WAL, the registers, instruction files,
    /// reports, rejects, the audit export and its key (folders 0700, files 0600), whatever the umask was.
    @Test func everyFileTheCLIWritesIsPrivate() throws {
        let sandbox = CLISandbox()
        let folder = try demo(sandbox)
        var checked = 0
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
        for case let name as String in enumerator {
            let path = folder + "/" + name
            var info = stat()
            try #require(lstat(path, &info) == 0)
            let mode = info.st_mode & 0o777
            if info.st_mode & S_IFMT == S_IFDIR {
                #expect(mode & 0o077 == 0, "\(name) is a folder with mode \(String(mode, radix: 8))")
            } else {
                #expect(mode & 0o077 == 0, "\(name) has mode \(String(mode, radix: 8))")
            }
            checked += 1
        }
        #expect(checked >= 10)
    }

    /// (10) An output option naming the ledger (or its WAL) is refused before anything is written: the ledger stays.
    @Test func anOutputOverTheLedgerIsRefused() throws {
        let sandbox = CLISandbox()
        let folder = try demo(sandbox)
        let ledger = folder + "/allowance.sqlite"
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger))
        for arguments in [["batch", "export", "1", "--out", ledger],
                          ["reconcile", "status", "1", "--report", ledger],
                          ["reconcile", "1", folder + "/register.csv", "--report", ledger + "-wal"],
                          ["beneficiary", "import", folder + "/register-update.csv", "--skip-invalid", "--rejects", ledger]] {
            let run = try sandbox.run(arguments + ["--db", ledger])
            #expect(run.status == 1, "\(arguments)")
            #expect(run.stderr.contains("is the ledger's own file"), "\(arguments): \(run.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: ledger)) == before)
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify", "--db", ledger]))
    }

    /// (10) `demo --dir .` in a folder holding a real ledger leaves it alone; the demo's own folder is replaced as before.
    @Test func theDemoNeverReplacesALedgerItDidNotMake() throws {
        let sandbox = CLISandbox()
        let office = sandbox.directory.file("office")
        try FileManager.default.createDirectory(atPath: office, withIntermediateDirectories: false)
        let ledger = office + "/allowance.sqlite"
        sandbox.expectSuccess(try sandbox.run(["init", "--db", ledger, "--office", "UBND xã Thật"]))
        let refused = try sandbox.run(["demo", "--dir", office, "--count", "20"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the demo did not make"))
        let office2 = try sandbox.run(["init", "--db", ledger, "--json"])
        #expect(office2.stdout.contains("UBND xã Thật"))
        // The demo's own folder is started afresh on a second run.
        let folder = try demo(sandbox)
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", folder, "--count", "40"]))
    }

    /// (10) What a carrier writes never reaches the terminal as escape sequences: reconciling a file whose lines carry
    /// ESC and C1 controls prints none of them.
    @Test func carrierTextReachesTheTerminalWithoutControlCharacters() throws {
        let sandbox = CLISandbox()
        let folder = try demo(sandbox)
        let ledger = folder + "/allowance.sqlite"
        let file = sandbox.directory.write("hostile.csv", """
            reference,msisdn,amount,status,carrier_txn_id,completed_at,reason_code,reason_text
            AL-\u{1B}]0;owned\u{07}-1,0912345678,500000,FAILED,T\u{1B}[2J1,2026-11-28,E\u{9B}1,"\u{1B}[31mred\u{1B}[0m"

            """)
        let run = try sandbox.run(["reconcile", "1", file, "--db", ledger, "--by", "auditor.x"])
        let printed = run.stdout + run.stderr
        #expect(!printed.isEmpty)
        #expect(!printed.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || (0x80...0x9F).contains($0.value) },
                "\(printed.debugDescription)")
    }
}

/// Issue 19 (9): a hostile line costs memory in proportion to the cap, not to the line.
@Suite(.timeLimit(.minutes(2)))
struct HostileLineTests {
    @Test func aLineOfMillionsOfCommasIsOneBadRecordWithCappedFields() throws {
        let folder = TemporaryDirectory()
        let path = folder.write("commas.csv", "a,b\n" + String(repeating: ",", count: 1_000_000) + "\n1,2\n")
        let reader = try CSVReader(path: path)
        #expect(try reader.next())
        #expect(reader.fieldCount == 2)
        #expect(try reader.next())
        #expect(reader.recordError == .tooManyFields(fieldsMax: CSVReader.fieldsMax))
        #expect(reader.fieldCount == CSVReader.fieldsMax + 1)
        #expect(!reader.isBlank)
        #expect(try reader.next())
        #expect(reader.recordError == nil)
        #expect(reader.string(1) == "2")
        #expect(try !reader.next())
    }

    /// An 8 MB and a 32 MB line of commas in a register: the import rejects the line and stays under 100 MB.
    @Test func aHostileRegisterLineStaysUnder100MB() throws {
        let sandbox = CLISandbox()
        let header = "national_id,full_name,date_of_birth,gender,commune_code,category,payment_method,carrier,msisdn\n"
        for megabytes in [8, 32] {
            let path = sandbox.directory.write("commas-\(megabytes).csv", header + String(repeating: ",", count: megabytes << 20) + "\n")
            // The CLI reports its own peak (VmHWM) when profiling: a parent's rusage would count the test runner it
            // was spawned from.
            let run = try sandbox.run(["beneficiary", "import", path, "--skip-invalid"], environment: ["ALLOWANCE_TRACE_SQL": "1"])
            sandbox.expectSuccess(run)
            let peak = try #require(run.stderrLines.last { $0.hasPrefix("peak memory: ") })
            let kilobytes = try #require(Int(peak.dropFirst("peak memory: ".count).prefix { $0.isNumber }))
            #expect(kilobytes < 100 * 1024, "\(megabytes) MB line: \(kilobytes) KB")
            let rejects = try String(contentsOfFile: path + ".rejected.csv", encoding: .utf8)
            #expect(rejects.contains("more than \(CSVReader.fieldsMax) fields"))
        }
    }
}

/// Issue 19 (2): the clock cannot be set back on a live ledger, nor can any entry be dated before the chain's last.
@Suite(.timeLimit(.minutes(2)))
struct SettableClockTests {
    @Test func anEntryDatedBeforeTheJournalsLastIsRefused() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("ledger.sqlite")
        let later = try Store(path: path, clock: .fixed(try Timestamp(parsing: "2026-11-25T08:00:00Z")))
        _ = try later.journal.fund(amount: Money(dong: 1_000), reference: "QD-1", by: try UserName(parsing: "head"))
        let earlier = try Store(path: path, clock: .fixed(try Timestamp(parsing: "2026-11-10T08:00:00Z")))
        #expect(throws: LedgerError.beforeJournalHead(now: "2026-11-10T08:00:00Z", head: "2026-11-25T08:00:00Z")) {
            try earlier.journal.fund(amount: Money(dong: 1_000), reference: "QD-2", by: try UserName(parsing: "head"))
        }
        #expect(try later.journal.verify().entries == 1)
        // The same moment is not before it.
        _ = try later.journal.fund(amount: Money(dong: 1_000), reference: "QD-3", by: try UserName(parsing: "head"))
    }

    @Test func allowanceNowIsRefusedOnALedgerNotCreatedWithIt() throws {
        let sandbox = CLISandbox()
        var live = sandbox.environment
        live["ALLOWANCE_NOW"] = nil
        let binary = try AllowanceBinary.path()
        sandbox.expectSuccess(try sandbox.execute(binary, ["init", "--office", "UBND xã Thật"], environment: live))
        let refused = try sandbox.run(["fund", "--amount", "1000", "--reference", "QD-1", "--by", "head"],
                                      environment: ["ALLOWANCE_NOW": "2026-01-01T00:00:00Z"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("ALLOWANCE_NOW sets the clock only on a ledger created with it"))
        sandbox.expectSuccess(try sandbox.execute(binary, ["fund", "--amount", "1000", "--reference", "QD-1", "--by", "head"],
                                                  environment: live))
        // Only the live fund is in the journal: the refused one wrote nothing.
        let verified = try sandbox.execute(binary, ["ledger", "verify", "--json"], environment: live)
        #expect(int64(try jsonObject(verified.stdout)["entries"]) == 1)
        // A ledger made with a set clock (the sandbox's own) takes it, forward only.
        let other = CLISandbox()
        other.expectSuccess(try other.run(["fund", "--amount", "1000", "--reference", "QD-1", "--by", "head"]))
        let back = try other.run(["fund", "--amount", "1000", "--reference", "QD-2", "--by", "head"],
                                 environment: ["ALLOWANCE_NOW": "2026-01-01T00:00:00Z"])
        #expect(back.status == 1)
        #expect(back.stderr.contains("never go back in time"))
    }
}

/// Issue 19 (3): the person who changed an account cannot clear the flag that change raised.
@Suite struct FlagClearerTests {
    @Test func theChangerCannotClearTheirOwnChangesFlag() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        _ = try fixture.store.registry.updateAccount(of: "1", .change(MobileMoneyAccount(carrier: Code(trusted: "VNPT"),
                                                                                         msisdn: try MSISDN(parsing: "0911000002"))),
                                                     reason: "new SIM", by: user("officer.lan"))
        let flag = try #require(try fixture.store.registry.flags().first { $0.kind == .recentAccountChange })
        #expect(throws: RegistryError.clearerMadeTheChange(flag.id, user: "officer.lan")) {
            try fixture.store.registry.clearFlag(flag.id, reason: "I checked it myself", by: user("Officer.Lan"))
        }
        #expect(try fixture.store.registry.flags().contains { $0.id == flag.id })
        let cleared = try fixture.store.registry.clearFlag(flag.id, reason: "called the beneficiary back", by: user("head.minh"))
        #expect(cleared.clearedBy == "head.minh")
    }
}

/// Issue 19 (3): switching a safeguard off, renaming the office or adding a carrier is recorded with who and when,
/// and that history cannot be edited.
@Suite struct SettingHistoryTests {
    @Test func settingChangesAreRecordedAndNeverEdited() throws {
        let fixture = try Fixture()
        try fixture.store.registry.setChangeWindowDays(0, by: user("head.minh"))
        try fixture.store.audit.setOfficeName("UBND xã Thật", by: user("admin.an"))
        try fixture.store.registry.addCarrier(Code(trusted: "ZALOPAY"), name: "ZaloPay", by: user("admin.an"))
        let rows = try fixture.store.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value, by FROM setting_event ORDER BY id").map { [$0[0] as String, $0[1] as String, $0[2] as String] }
        }
        #expect(rows == [["account_change_window_days", "0", "head.minh"], ["office", "UBND xã Thật", "admin.an"],
                         ["carrier.ZALOPAY", "ZaloPay", "admin.an"]])
        #expect(throws: DatabaseError.self) { try fixture.store.write { try $0.execute(sql: "UPDATE setting_event SET by = 'nobody'") } }
        #expect(throws: DatabaseError.self) { try fixture.store.write { try $0.execute(sql: "DELETE FROM setting_event") } }
    }
}

/// Issue 19 (6): whoever is shown numbers and IDs whole is recorded, with when and what; the log cannot be edited.
@Suite struct DisclosureLogTests {
    @Test func revealIsRecordedInTheAccessLog() throws {
        let sandbox = CLISandbox()
        try sandbox.batchOfSamples(approved: false)
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "list"]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "list", "--reveal"]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "show", "001150000001", "--reveal"], environment: ["ALLOWANCE_USER": "auditor.hoa"]))
        let store = try Store(path: sandbox.database, clock: .fixed(try Timestamp(parsing: "2026-11-20T08:00:00Z")))
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT by, what FROM disclosure ORDER BY id").map { [$0[0] as String, $0[1] as String] }
        }
        #expect(rows == [["officer.test", "beneficiary list"], ["auditor.hoa", "beneficiary show *********001"]])
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: "DELETE FROM disclosure") } }
    }
}

/// Issue 19 (5): a profile cannot turn failures into payments, pass for the built-in one, or be picked up from
/// whatever folder a command happens to run in.
@Suite struct LyingProfileTests {
    @Test func aProfileNeverMovesABuiltInStatusWord() {
        do {
            _ = try CarrierProfile(parsing: "name = viettel\nstatus.paid = FAILED | Thành công\n", file: "viettel.profile")
            Issue.record("FAILED was moved to paid")
        } catch {
            #expect(error.line == 2)
            #expect(error.reason.contains("built in as failed"))
        }
        // Adding words is what profiles are for.
        #expect(throws: Never.self) { try CarrierProfile(parsing: "name = viettel\nstatus.paid = GD_OK\nstatus.failed = GD_LOI\n", file: "v") }
    }

    @Test func onlyTheBuiltInRulesGoByTheBuiltInName() throws {
        #expect(throws: ProfileError.self) { try CarrierProfile(parsing: "name = generic\nstatus.paid = GD_OK\n", file: "x.profile") }
        #expect(throws: ProfileError.self) { try CarrierProfile(parsing: "name = Generic\ndelimiter = ;\n", file: "x.profile") }
        let written = try CarrierProfile(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/samples/profiles/generic.profile")
        #expect(written.rulesSHA256 == CarrierProfile.generic.rulesSHA256)
    }

    @Test func profilesAreNotLookedForInTheWorkingFolder() {
        let directories = CarrierProfile.searchDirectories(listed: "/etc/allowance/profiles", ledger: "/srv/office/allowance.sqlite")
        #expect(directories == ["/etc/allowance/profiles", "/srv/office/profiles"])
    }
}

/// Issue 19 (4): anchors outside the ledger file. A signed export records the chain's head; a later export must extend
/// it (`audit verify --previous`) and so must the live ledger (`ledger verify --anchor`). A ledger whose history differs
/// at the anchored entry (here another office's month, standing for a chain rewritten and rehashed whole) fails both.
@Suite(.timeLimit(.minutes(3)))
struct AnchorTests {
    @Test func aLaterExportAndTheLiveLedgerMustExtendTheAnchoredHead() throws {
        let sandbox = CLISandbox()
        let a = sandbox.directory.file("a"), b = sandbox.directory.file("b")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", a, "--count", "40", "--seed", "1"]))
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", b, "--count", "40", "--seed", "2"]))
        let key = a + "/audit.key"
        let anchor = a + "/audit-export"

        // The live ledger holds its own export's head; another history does not.
        let holds = try sandbox.run(["ledger", "verify", "--db", a + "/allowance.sqlite", "--anchor", anchor, "--key", key, "--json"])
        sandbox.expectSuccess(holds)
        #expect((try jsonObject(holds.stdout)["anchor"] as? [String: Any])?["holds"] as? Bool == true)
        let rewritten = try sandbox.run(["ledger", "verify", "--db", b + "/allowance.sqlite", "--anchor", anchor, "--key", key])
        #expect(rewritten.status == 2)
        #expect(rewritten.stdout.contains("Anchor BROKEN"))

        // A later export of the same ledger extends the anchor; one of another history does not.
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "1000", "--reference", "QD-later", "--by", "head",
                                               "--db", a + "/allowance.sqlite"]))
        let later = sandbox.directory.file("later")
        sandbox.expectSuccess(try sandbox.run(["audit", "export", "--out", later, "--key", key, "--by", "auditor.x",
                                               "--db", a + "/allowance.sqlite"]))
        let extends = try sandbox.run(["audit", "verify", later, "--key", key, "--previous", anchor])
        sandbox.expectSuccess(extends)
        #expect(extends.stdout.contains("extends the chain of export"))
        let other = sandbox.directory.file("other")
        sandbox.expectSuccess(try sandbox.run(["audit", "export", "--out", other, "--key", key, "--by", "auditor.x",
                                               "--db", b + "/allowance.sqlite"]))
        let broken = try sandbox.run(["audit", "verify", other, "--key", key, "--previous", anchor])
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("the chain was rewritten between the two exports") || broken.stdout.contains("past this export"),
                "\(broken.stdout)")
    }
}

/// Issue 19 (4): the daily receipt. `ledger anchor` signs the head; the ledger must still hold it later, and a changed
/// receipt or another history is caught.
@Suite(.timeLimit(.minutes(3)))
struct AnchorReceiptTests {
    @Test func aReceiptAnchorsTheHeadItWasTakenAt() throws {
        let sandbox = CLISandbox()
        let a = sandbox.directory.file("a"), b = sandbox.directory.file("b")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", a, "--count", "40", "--seed", "1"]))
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", b, "--count", "40", "--seed", "2"]))
        let key = a + "/audit.key", receipt = sandbox.directory.file("head.anchor")
        let written = try sandbox.run(["ledger", "anchor", "--db", a + "/allowance.sqlite", "--key", key, "--out", receipt, "--by", "head", "--json"])
        sandbox.expectSuccess(written)
        #expect(try sandbox.run(["ledger", "anchor", "--db", a + "/allowance.sqlite", "--key", key, "--out", receipt, "--by", "head"]).status == 1)
        // Later entries extend the chain: the receipt still holds.
        sandbox.expectSuccess(try sandbox.run(["fund", "--amount", "1000", "--reference", "QD-later", "--by", "head", "--db", a + "/allowance.sqlite"]))
        let holds = try sandbox.run(["ledger", "verify", "--db", a + "/allowance.sqlite", "--anchor", receipt, "--key", key])
        sandbox.expectSuccess(holds)
        #expect(holds.stdout.contains("Anchor holds"))
        let other = try sandbox.run(["ledger", "verify", "--db", b + "/allowance.sqlite", "--anchor", receipt, "--key", key])
        #expect(other.status == 2)
        #expect(other.stdout.contains("Anchor BROKEN"))
        // A receipt edited to match another history no longer verifies.
        var text = try String(contentsOfFile: receipt, encoding: .utf8)
        let hash = try #require((try jsonObject(written.stdout))["head_hash"] as? String)
        text = text.replacingOccurrences(of: hash, with: String(repeating: "0", count: 64))
        try text.write(toFile: receipt, atomically: true, encoding: .utf8)
        let edited = try sandbox.run(["ledger", "verify", "--db", a + "/allowance.sqlite", "--anchor", receipt, "--key", key])
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("signature does not match"))
    }
}
