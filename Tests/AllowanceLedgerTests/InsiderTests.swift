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

/// Issue 19 (3): the register is a ledger fact. Its changes are chained (`RegisterChain`), so a direct write to a
/// beneficiary's row, or to the history, is caught by `ledger verify`, refused by the next change, and shown to the
/// checker as a payee whose number changed since they were last paid.
@Suite(.timeLimit(.minutes(3)))
struct RegisterChainTests {
    /// The demo's folder and ledger, and one beneficiary who was paid by mobile money in its month.
    func paidMonth(_ sandbox: CLISandbox) throws -> (ledger: String, beneficiary: Int64) {
        let folder = sandbox.directory.file("demo")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", folder, "--count", "40", "--seed", "4"]))
        let ledger = folder + "/allowance.sqlite"
        let paid = try sandbox.execute("/usr/bin/sqlite3", [ledger, """
            SELECT i.beneficiary_id FROM batch_item i JOIN item_state s ON s.item_id = i.id AND s.state = 'paid'
            WHERE i.method = 'mobile_money' ORDER BY i.id LIMIT 1
            """])
        return (ledger, try #require(Int64(paid.stdout.trimmingCharacters(in: .whitespacesAndNewlines))))
    }

    @Test func aDirectUpdateOfANumberIsCaughtRefusedAndShownAtApproval() throws {
        let sandbox = CLISandbox()
        let (ledger, beneficiary) = try paidMonth(sandbox)
        let intact = try sandbox.run(["ledger", "verify", "--db", ledger, "--json"])
        sandbox.expectSuccess(intact)
        let before = try jsonObject(intact.stdout)
        #expect((before["register_links"] as? Int ?? 0) >= 1)

        // The insider's one line: no history, no flag.
        let direct = try sandbox.execute("/usr/bin/sqlite3", [ledger, "UPDATE beneficiary SET msisdn = '84912345678' WHERE id = \(beneficiary)"])
        sandbox.expectSuccess(direct)
        let caught = try sandbox.run(["ledger", "verify", "--db", ledger, "--json"])
        #expect(caught.status == 2)
        let problems = try #require(try jsonObject(caught.stdout)["problems"] as? [[String: Any]])
        #expect(problems.contains { $0["kind"] as? String == "register_row_changed" && ($0["message"] as? String)?.contains("beneficiary \(beneficiary)'s row") == true })
        #expect(!caught.stdout.contains("84912345678"))

        // The next change through the ledger would seal the forged number as its own: refused, nothing written.
        let laundered = try sandbox.run(["beneficiary", "account", "change", String(beneficiary), "--carrier", "VIETTEL",
                                         "--msisdn", "0912000111", "--reason", "new SIM", "--by", "officer.lan", "--db", ledger])
        #expect(laundered.status == 1)
        #expect(laundered.stderr.contains("changed outside the ledger"))

        // The next month's batch pays the forged number; the checker is shown it against the number last paid.
        let made = try sandbox.run(["batch", "create", "--period", "2027-01", "--by", "officer.lan", "--db", ledger, "--json"])
        sandbox.expectSuccess(made)
        // The demo's month, its Tết one-off and perhaps a retry came first.
        let next = String(try #require(try jsonObject(made.stdout)["batch"] as? Int))
        let show = try sandbox.run(["batch", "show", next, "--db", ledger, "--json"])
        sandbox.expectSuccess(show)
        let changes = try #require(try jsonObject(show.stdout)["number_changes"] as? [[String: Any]])
        let change = try #require(changes.first { $0["beneficiary"] as? Int64 == beneficiary || $0["beneficiary"] as? Int == Int(beneficiary) })
        #expect(change["msisdn"] as? String == "********678")
        #expect(change["last_paid_period"] as? String == "2026-11")
        let text = try sandbox.run(["batch", "show", next, "--db", ledger])
        #expect(text.stdout.contains("will be paid on another number than the one they were last paid on"))
        #expect(!text.stdout.contains("84912345678"))
    }

    @Test func historyAndRowsWrittenBehindTheLedgerBreakTheRegisterChain() throws {
        let sandbox = CLISandbox()
        let (ledger, _) = try paidMonth(sandbox)
        func verifyKinds() throws -> [String] {
            let run = try sandbox.run(["ledger", "verify", "--db", ledger, "--json"])
            return (try jsonObject(run.stdout)["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        }
        // A history event removed (its trigger dropped first) breaks the link that covered it.
        sandbox.expectSuccess(try sandbox.execute("/usr/bin/sqlite3", [ledger, """
            DROP TRIGGER beneficiary_event_no_delete; DELETE FROM beneficiary_event WHERE id = (SELECT MAX(id) FROM beneficiary_event);
            """]))
        #expect(try verifyKinds().contains("register_chain_broken"))
        // A beneficiary inserted by hand was never sealed.
        sandbox.expectSuccess(try sandbox.execute("/usr/bin/sqlite3", [ledger, """
            INSERT INTO beneficiary(national_id, full_name, date_of_birth, gender, commune_code, category, payment_method, carrier, msisdn,
                                    registered_at, registered_by)
            SELECT '001099000001', 'Người Lạ', '1940-01-01', 'M', commune_code, category, 'mobile_money', carrier, '84999999999',
                   registered_at, registered_by FROM beneficiary WHERE carrier IS NOT NULL LIMIT 1;
            """]))
        #expect(try verifyKinds().contains("register_unsealed"))
    }

    /// (1) `PRAGMA ignore_check_constraints` let a direct write past the maker ≠ checker CHECK; verify still says so.
    @Test func aBatchMadeAndApprovedByOnePersonIsReportedWhateverWroteIt() throws {
        let sandbox = CLISandbox()
        let (ledger, _) = try paidMonth(sandbox)
        sandbox.expectSuccess(try sandbox.execute("/usr/bin/sqlite3", [ledger, """
            PRAGMA ignore_check_constraints = 1; DROP TRIGGER batch_frozen;
            UPDATE batch SET approved_by = created_by WHERE id = 1;
            """]))
        let run = try sandbox.run(["ledger", "verify", "--db", ledger, "--json"])
        #expect(run.status == 2)
        let kinds = (try jsonObject(run.stdout)["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.contains("maker_is_checker"))
    }

    /// The SQL function that seals rows and the Swift encoding a second backend would use agree byte for byte.
    @Test func theRowSealIsTheSameInSQLAndInSwift() throws {
        let fixture = try Fixture()
        try fixture.importLines(Sample.all)
        let (sql, values) = try fixture.store.read { db -> (Data, [SealValue]) in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT \(Store.beneficiaryColumns), \(Store.rowDigestSQL()) FROM beneficiary WHERE carrier IS NULL LIMIT 1"))
            // `household_status`, the 14th column, is sealed only when set (rows sealed before it still match).
            let values: [SealValue] = (0..<13).map { index in
                switch (row[index] as DatabaseValue).storage {
                case .int64(let number): .integer(number)
                case .string(let text): .text(text)
                default: .null
                }
            }
            #expect((row[13] as String?) == nil)
            return (row[14] as Data, values)
        }
        try fixture.store.write { db in try db.execute(sql: "UPDATE beneficiary SET household_status = 'poor' WHERE id = 1") }
        let poor = try fixture.store.read { db -> (Data, String) in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT national_id, \(Store.rowDigestSQL()), \(Store.beneficiaryColumns) FROM beneficiary WHERE id = 1"))
            return (row[1] as Data, row[0] as String)
        }
        let sealedPoor = try fixture.store.read { db -> [UInt8] in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT \(Store.beneficiaryColumns) FROM beneficiary WHERE id = 1"))
            let values: [SealValue] = (0..<14).map { index in
                switch (row[index] as DatabaseValue).storage {
                case .int64(let number): .integer(number)
                case .string(let text): .text(text)
                default: .null
                }
            }
            return RegisterChain.rowDigest(values).bytes
        }
        #expect(Array(poor.0) == sealedPoor && !poor.1.isEmpty)
        #expect(Array(sql) == RegisterChain.rowDigest(values).bytes)
        #expect(values.contains { if case .null = $0 { true } else { false } })

        // And the sum of seals: SQL's aggregate against the Swift reference, carries across every byte included.
        let (digests, summed) = try fixture.store.read { db -> ([Data], Data) in
            let digests = try Data.fetchAll(db, sql: "SELECT digest FROM beneficiary_seal")
            let summed = try #require(try Data.fetchOne(db, sql: """
                SELECT allowance_sum256(d) FROM (SELECT digest AS d FROM beneficiary_seal
                    UNION ALL SELECT x'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF')
                """))
            return (digests, summed)
        }
        var sum = SealSum()
        for digest in digests { digest.withUnsafeBytes { sum.add($0) } }
        sum.add(Digest32(bytes: [UInt8](repeating: 0xFF, count: 32)))
        #expect(Hex.encode(Array(summed)) == sum.hex)
        #expect(digests.count == Sample.all.count)
    }
}

/// Issue 19 (4), the review's rewrite as a script written from outside the project: drop the triggers, redirect a
/// sealed item, recompute its seal and memo, rehash every entry and the head, restore the triggers. The file's own
/// checks pass (the script is faithful); every anchor kept outside the file catches it.
@Suite(.timeLimit(.minutes(3)))
struct ChainRewriteScriptTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/rewrite_chain.py").path

    @Test func theRewriteIsCaughtByTheExportTheReceiptAndTheNextExport() throws {
        let sandbox = CLISandbox()
        let folder = sandbox.directory.file("demo")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", folder, "--count", "40", "--seed", "5"]))
        let ledger = folder + "/allowance.sqlite", key = folder + "/audit.key", receipt = sandbox.directory.file("head.anchor")
        sandbox.expectSuccess(try sandbox.run(["ledger", "anchor", "--db", ledger, "--key", key, "--out", receipt, "--by", "head"]))
        let item = try sandbox.execute("/usr/bin/sqlite3", [ledger, "SELECT id FROM batch_item WHERE method = 'mobile_money' ORDER BY id LIMIT 1"])
        let rewrite = try sandbox.execute("/usr/bin/env", ["python3", Self.script, ledger, item.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                                                           "84987654321"])
        #expect(rewrite.status == 0, "\(rewrite.stderr)")
        let redirected = try sandbox.execute("/usr/bin/sqlite3", [ledger, "SELECT COUNT(*) FROM batch_item WHERE msisdn = '84987654321'"])
        #expect(redirected.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        // Inside the file everything agrees again: this is what made the rewrite dangerous.
        sandbox.expectSuccess(try sandbox.run(["ledger", "verify", "--db", ledger]))
        // Outside it, each anchor still names the history before the rewrite.
        let byExport = try sandbox.run(["ledger", "verify", "--db", ledger, "--anchor", folder + "/audit-export", "--key", key])
        #expect(byExport.status == 2)
        #expect(byExport.stdout.contains("Anchor BROKEN"))
        let byReceipt = try sandbox.run(["ledger", "verify", "--db", ledger, "--anchor", receipt, "--key", key])
        #expect(byReceipt.status == 2)
        let next = sandbox.directory.file("next-export")
        sandbox.expectSuccess(try sandbox.run(["audit", "export", "--db", ledger, "--out", next, "--key", key, "--by", "auditor.x"]))
        let linked = try sandbox.run(["audit", "verify", next, "--key", key, "--previous", folder + "/audit-export"])
        #expect(linked.status == 2)
        #expect(linked.stdout.contains("the chain was rewritten between the two exports"))
    }
}

/// Issue 19 (1): who acts. Every command that writes records the OS account and host beside the actor it names; a
/// ledger in actor mode `os` takes the actor from the OS account, so one login cannot be maker and checker.
@Suite(.timeLimit(.minutes(2)))
struct ActorModeTests {
    @Test func aStrictLedgerTakesTheActorFromTheOSAccount() throws {
        let sandbox = CLISandbox()
        let me = Operator.account
        let made = try sandbox.run(["init", "--actor", "os", "--json"])
        sandbox.expectSuccess(made)
        #expect(try jsonObject(made.stdout)["actor"] as? String == "os")
        #expect(try sandbox.run(["init", "--actor", "anyone"]).status == 1)

        // Naming someone else is refused, and the attempt is in the operator log.
        let typed = try sandbox.run(["beneficiary", "import", sandbox.register(Sample.all), "--by", "head.minh"])
        #expect(typed.status == 1)
        #expect(typed.stderr.contains("cannot act as head.minh"))
        // Without --by the actor is the OS account, whatever ALLOWANCE_USER says.
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", sandbox.register(Sample.all)]))
        sandbox.expectSuccess(try sandbox.run(["batch", "create", "--period", "2026-11"]))
        let own = try sandbox.run(["batch", "approve", "1"])
        #expect(own.status == 1)
        #expect(own.stderr.contains("created"), "\(own.stderr)")
        let log = try sandbox.sqlite("SELECT actor, os_account, command FROM operator_log ORDER BY id")
        let rows = log.stdout.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.contains { $0[0] == "head.minh" && $0[1] == me && $0[2].contains("beneficiary import") })
        #expect(rows.filter { $0[0] == me }.count >= 3)
        #expect(try sandbox.sqlite("SELECT created_by FROM batch WHERE id = 1").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == me)
    }

    @Test func aDeclaredLedgerRecordsTheOSAccountBesideTheNamedActor() throws {
        let sandbox = CLISandbox()
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", sandbox.register(Sample.all), "--by", "officer.lan"]))
        let log = try sandbox.sqlite("SELECT actor, os_account, host FROM operator_log")
        #expect(log.stdout.hasPrefix("officer.lan|\(Operator.account)|"))
        #expect(try sandbox.sqlite("SELECT COUNT(*) FROM operator_log").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }
}

/// The OS account the test process (and so the CLI it starts) runs as.
enum Operator {
    static var account: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "" }
        return String(cString: name)
    }
}

/// Issue 19 (5): a result file keeps the rules it was read with, and each line what its carrier wrote.
@Suite(.timeLimit(.minutes(2)))
struct CarrierWordTests {
    @Test func theProfileAndEachRawStatusAreKeptWithTheFile() throws {
        let sandbox = CLISandbox()
        let folder = sandbox.directory.file("demo")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", folder, "--count", "40", "--seed", "6"]))
        let ledger = folder + "/allowance.sqlite"
        let file = try sandbox.execute("/usr/bin/sqlite3", [ledger, "SELECT profile_sha256 || '|' || profile_rules FROM result_file"])
        // sqlite3 ends the row with a line feed of its own; the rules end with theirs.
        let parts = String(file.stdout.dropLast()).split(separator: "|", maxSplits: 1).map(String.init)
        #expect(parts.count == 2)
        #expect(SHA256Hasher.hash(parts[1]).hex == parts[0], "the kept rules are the ones the file was read with")
        let words = try sandbox.execute("/usr/bin/sqlite3", [ledger, "SELECT DISTINCT carrier_status FROM result_line WHERE carrier_status IS NOT NULL"])
        let spelled = Set(words.stdout.split(separator: "\n").map(String.init))
        let written = try String(contentsOfFile: folder + "/results-2026-11.csv", encoding: .utf8)
        #expect(!spelled.isEmpty)
        #expect(spelled.allSatisfy { written.contains(",\($0),") }, "\(spelled)")
    }

    /// (6) `--reveal` on a command that changes a beneficiary is in the access log too.
    @Test func revealOnAChangeIsLogged() throws {
        let sandbox = CLISandbox()
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "import", sandbox.register(Sample.all)]))
        sandbox.expectSuccess(try sandbox.run(["beneficiary", "suspend", "1", "--reason", "moved", "--reveal", "--json", "--by", "officer.lan"]))
        let log = try sandbox.sqlite("SELECT by, what FROM disclosure")
        #expect(log.stdout.contains("officer.lan|beneficiary suspended: beneficiary 1"))
    }
}

/// Issue 19 (4): a receipt anchors the register's chain as well as the journal's, and can carry an Ed25519 signature
/// that an auditor checks with the public key alone.
@Suite(.timeLimit(.minutes(3)))
struct RegisterReceiptTests {
    @Test func aReceiptAnchorsTheRegisterAndVerifiesWithThePublicKeyAlone() throws {
        let sandbox = CLISandbox()
        let a = sandbox.directory.file("a"), b = sandbox.directory.file("b")
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", a, "--count", "40", "--seed", "1"]))
        sandbox.expectSuccess(try sandbox.run(["demo", "--dir", b, "--count", "40", "--seed", "2"]))
        let signing = sandbox.directory.file("office.ed25519")
        sandbox.expectSuccess(try sandbox.run(["audit", "keygen", "--ed25519", "--out", signing]))
        let receipt = sandbox.directory.file("head.anchor")
        let made = try sandbox.run(["ledger", "anchor", "--db", a + "/allowance.sqlite", "--key", a + "/audit.key", "--sign-ed25519", signing,
                                    "--out", receipt, "--json"])
        sandbox.expectSuccess(made)
        let fields = try jsonObject(made.stdout)
        #expect((fields["register_link"] as? Int ?? 0) >= 1)
        #expect(fields["ed25519"] as? Bool == true)

        // The public key alone checks it: the ledger holds both heads; another history holds neither.
        let holds = try sandbox.run(["ledger", "verify", "--db", a + "/allowance.sqlite", "--anchor", receipt, "--public-key", signing + ".pub"])
        sandbox.expectSuccess(holds)
        #expect(holds.stdout.contains("Register anchor holds"))
        let other = try sandbox.run(["ledger", "verify", "--db", b + "/allowance.sqlite", "--anchor", receipt, "--public-key", signing + ".pub", "--json"])
        #expect(other.status == 2)
        let anchor = try #require(try jsonObject(other.stdout)["anchor"] as? [String: Any])
        #expect(anchor["holds"] as? Bool == false)
        #expect((anchor["register"] as? [String: Any])?["holds"] as? Bool == false)

        // A receipt edited to name another register head fails the Ed25519 check.
        var text = try String(contentsOfFile: receipt, encoding: .utf8)
        let hash = try #require(fields["register_hash"] as? String)
        text = text.replacingOccurrences(of: hash, with: String(repeating: "1", count: 64))
        try text.write(toFile: receipt, atomically: true, encoding: .utf8)
        let edited = try sandbox.run(["ledger", "verify", "--db", a + "/allowance.sqlite", "--anchor", receipt, "--public-key", signing + ".pub"])
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("signature does not match"))
    }
}
