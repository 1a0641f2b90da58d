import Testing
@testable import AllowanceLedger
@testable import LedgerSQLite

@Suite struct MoneyTests {
    @Test(arguments: [
        ("500000", 500_000), ("500.000", 500_000), ("500,000", 500_000), ("500 000", 500_000), ("1.234.567", 1_234_567),
        (" 750000 ", 750_000), ("0", 0), ("-500.000", -500_000), ("500.000 ₫", 500_000), ("500000đ", 500_000), ("500000 VND", 500_000),
        ("1\u{00A0}500\u{00A0}000", 1_500_000),
    ] as [(String, Int64)])
    func parsesWholeDong(text: String, dong: Int64) throws {
        #expect(try Money(parsing: text).dong == dong)
    }

    @Test(arguments: [
        ("1.500,5", MoneyError.notWholeNumber("1.500,5")), ("1.5", .notWholeNumber("1.5")), ("500000.00", .notWholeNumber("500000.00")),
        ("50.00.000", .notWholeNumber("50.00.000")), ("1,500.000", .notWholeNumber("1,500.000")), ("", .empty), ("   ", .empty),
        ("abc", .notANumber("abc")), ("12a", .notANumber("12a")), ("9223372036854775808", .overflow), ("99999999999999999999", .overflow),
        ("-", .notANumber("-")),
    ])
    func refusesAmountsThatAreNotWholeDong(text: String, error: MoneyError) {
        #expect(throws: error) { try Money(parsing: text) }
    }

    @Test func overflowIsAnErrorNotAWrap() throws {
        #expect(throws: MoneyError.overflow) { try Money(dong: .max).adding(Money(dong: 1)) }
        #expect(throws: MoneyError.overflow) { try Money(dong: .min).subtracting(Money(dong: 1)) }
        #expect(throws: MoneyError.overflow) { try Money(dong: .max / 2).multiplied(by: Coefficient(milli: 2500)) }
        #expect(try Money(dong: 1).adding(Money(dong: 2)) == Money(dong: 3))
    }

    @Test(arguments: [
        (500_000, "1.5", 750_000), (500_000, "2.5", 1_250_000), (360_000, "1.5", 540_000), (360_000, "1", 360_000),
        (333_333, "1.5", 500_000), (1, "0.5", 1), (3, "0.333", 1), (100_001, "0.005", 500),
    ] as [(Int64, String, Int64)])
    func multipliesByCoefficientRoundingHalfUp(base: Int64, coefficient: String, expected: Int64) throws {
        let c = try Coefficient(parsing: coefficient)
        #expect(try Money(dong: base).multiplied(by: c).dong == expected)
    }

    @Test func coefficientParsingAndPrinting() throws {
        #expect(try Coefficient(parsing: "1.5").milli == 1500)
        #expect(try Coefficient(parsing: "2").milli == 2000)
        #expect(try Coefficient(parsing: "0.75").milli == 750)
        #expect(try Coefficient(parsing: "0.75").description == "0.75")
        #expect(try Coefficient(parsing: "2.50").description == "2.5")
        #expect(throws: CoefficientError.invalid("1.2345")) { try Coefficient(parsing: "1.2345") }
        #expect(throws: CoefficientError.invalid("1,5")) { try Coefficient(parsing: "1,5") }
        #expect(throws: CoefficientError.outOfRange("0")) { try Coefficient(parsing: "0") }
        #expect(throws: CoefficientError.outOfRange("101")) { try Coefficient(parsing: "101") }
    }

    @Test func groupsInVietnameseStyle() {
        #expect(Money(dong: 1_234_567).grouped == "1.234.567")
        #expect(Money(dong: 500).grouped == "500")
        #expect(Money(dong: -1_000).grouped == "-1.000")
        #expect(Money(dong: 0).grouped == "0")
    }
}

@Suite struct NationalIDTests {
    @Test func acceptsAValidCCCD() throws {
        let id = try NationalID(parsing: " 001150000001 ")
        #expect(id.digits == "001150000001")
        try id.check(birthDate: try CalendarDate(parsing: "1950-03-04"), gender: .female)
    }

    @Test(arguments: [
        ("", NationalIDError.empty), ("00115000000", .wrongLength(11)), ("0011500000011", .wrongLength(13)),
        ("00115000000A", .notDigits), ("001-150-000001", .notDigits), ("000150000001", .unknownProvince("000")),
        ("097150000001", .unknownProvince("097")),
    ])
    func refusesMalformedIDs(text: String, error: NationalIDError) {
        #expect(throws: error) { try NationalID(parsing: text) }
    }

    @Test(arguments: [
        // digit 4: 0/1 men/women born 1900–1999, 2/3 for 2000–2099.
        ("001050000001", "1950-03-04", Gender.female, NationalIDError.centuryGenderMismatch(found: 0, expected: 1, year: 1950, gender: .female)),
        ("001150000001", "1950-03-04", .male, .centuryGenderMismatch(found: 1, expected: 0, year: 1950, gender: .male)),
        ("001150000001", "2050-03-04", .female, .centuryGenderMismatch(found: 1, expected: 3, year: 2050, gender: .female)),
        ("001151000001", "1950-03-04", .female, .birthYearMismatch(found: 51, year: 1950)),
        ("001300000001", "2010-01-01", .female, .birthYearMismatch(found: 0, year: 2010)),
    ])
    func mustAgreeWithBirthDateAndGender(text: String, birth: String, gender: Gender, error: NationalIDError) throws {
        let id = try NationalID(parsing: text)
        #expect(throws: error) { try id.check(birthDate: try CalendarDate(parsing: birth), gender: gender) }
    }

    @Test func isMaskedWhenPrinted() throws {
        let id = try NationalID(parsing: "001150000001")
        #expect("\(id)" == "*********001")
        #expect(id.masked == "*********001")
        #expect(id.shown(reveal: true) == "001150000001")
        #expect(!String(describing: NationalIDError.birthYearMismatch(found: 51, year: 1950)).contains("001150000001"))
    }
}

@Suite struct MSISDNTests {
    @Test(arguments: [
        "0912345678", "84912345678", "+84912345678", "+84 912 345 678", "0912.345.678", "0912-345-678", "(+84) 912345678",
        "0084912345678", "912345678", "'0912345678", " 0912345678 ",
    ])
    func acceptsEverySpelling(text: String) throws {
        let number = try MSISDN(parsing: text)
        #expect(number.canonical == "84912345678")
        #expect(number.national == "0912345678")
    }

    @Test(arguments: ["0321234567", "0561234567", "0701234567", "0861234567", "0991234567"])
    func acceptsEveryMobilePrefix(text: String) throws {
        #expect(try MSISDN(parsing: text).canonical == "84" + text.dropFirst())
    }

    @Test(arguments: [
        ("", MSISDNError.empty), ("0243 987 6543", .landline), ("02439876543", .landline), ("+84 24 3987 6543", .landline),
        ("091234567", .wrongLength(9)), ("09123456789", .wrongLength(11)), ("0112345678", .unknownPrefix("011")),
        ("0612345678", .unknownPrefix("061")), ("0412345678", .unknownPrefix("041")), ("0912a45678", .invalidCharacters),
        ("+1 415 555 0100", .notVietnamese), ("++84912345678", .invalidCharacters),
    ])
    func refusesWhatIsNotAVietnameseMobile(text: String, error: MSISDNError) {
        #expect(throws: error) { try MSISDN(parsing: text) }
    }

    @Test func isMaskedWhenPrinted() throws {
        let number = try MSISDN(parsing: "0912345678")
        #expect("\(number)" == "********678")
        #expect(number.shown(reveal: false) == "********678")
        #expect(number.shown(reveal: true) == "84912345678")
    }
}

@Suite struct TimeTests {
    @Test func periodsParseAndRefuse() throws {
        let period = try Period(parsing: "2026-11")
        #expect(period.description == "2026-11")
        #expect(period.firstDay.description == "2026-11-01")
        #expect(period.lastDay.description == "2026-11-30")
        #expect(try Period(parsing: "2024-02").lastDay.description == "2024-02-29")
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "1999-12", "2026-00"] {
            #expect(throws: FieldError.self) { try Period(parsing: bad) }
        }
    }

    @Test func datesParseStrictly() throws {
        #expect(try CalendarDate(parsing: "2024-02-29").description == "2024-02-29")
        // Day first, as Vietnamese offices type dates (issue 21).
        #expect(try CalendarDate(parsing: "01/02/2026").description == "2026-02-01")
        #expect(try CalendarDate(parsing: "1/2/2026").description == "2026-02-01")
        for bad in ["2023-02-29", "2026-04-31", "2026-4-1", "31/02/2026", "01/02/26", "001/02/2026", "01-02-2026", "2026-11-30T00:00:00Z", ""] {
            #expect(throws: FieldError.self) { try CalendarDate(parsing: bad) }
        }
    }

    @Test func daysSinceEpochRoundTrip() throws {
        for text in ["1970-01-01", "1900-03-01", "2000-02-29", "2026-11-30", "2100-12-31"] {
            let date = try CalendarDate(parsing: text)
            #expect(CalendarDate(daysSinceEpoch: date.daysSinceEpoch) == date)
        }
        #expect(try CalendarDate(parsing: "1970-01-02").daysSinceEpoch == 1)
    }

    @Test func timestampsFormatAndParse() throws {
        let t = try Timestamp(parsing: "2026-11-30T04:17:07Z")
        #expect(t.description == "2026-11-30T04:17:07Z")
        #expect(try Timestamp(parsing: "2026-11-30 04:17:07").description == "2026-11-30T04:17:07Z")
        #expect(try Timestamp(parsing: "2026-11-30").description == "2026-11-30T00:00:00Z")
        #expect(t.adding(days: -7).description == "2026-11-23T04:17:07Z")
        #expect(throws: FieldError.self) { try Timestamp(parsing: "2026-11-30T25:00:00Z") }
    }

    @Test func ageCountsWholeYears() throws {
        let birth = try CalendarDate(parsing: "1946-12-01")
        #expect(birth.age(on: try CalendarDate(parsing: "2026-11-30")) == 79)
        #expect(birth.age(on: try CalendarDate(parsing: "2026-12-01")) == 80)
    }
}

@Suite struct CodeAndUserTests {
    @Test func codesAreCheckedAndNormalised() throws {
        #expect(try Code(parsing: " viettel ", field: "carrier", uppercase: true).value == "VIETTEL")
        #expect(try Code(parsing: "26734", field: "commune_code", uppercase: false).value == "26734")
        #expect(throws: FieldError.self) { try Code(parsing: "", field: "carrier", uppercase: true) }
        #expect(throws: FieldError.self) { try Code(parsing: "Xã Phú", field: "commune_code", uppercase: false) }
        #expect(throws: FieldError.self) { try Code(parsing: String(repeating: "A", count: 17), field: "commune_code", uppercase: false, lengthMax: 16) }
    }

    @Test func userNamesCompareIgnoringCase() throws {
        #expect(try UserName(parsing: "Lan").isSamePerson(as: UserName(parsing: " lan ")))
        #expect(try !UserName(parsing: "lan").isSamePerson(as: UserName(parsing: "minh")))
        #expect(throws: FieldError.self) { try UserName(parsing: "  ") }
        #expect(throws: FieldError.self) { try UserName(parsing: "a\u{7}b") }
    }

    @Test func genderAndMethodParse() throws {
        #expect(try Gender(parsing: "f") == .female)
        #expect(try Gender(parsing: "Nữ") == .female)
        #expect(throws: FieldError.self) { try Gender(parsing: "X") }
        #expect(try PaymentMethod(parsing: "Mobile_Money") == .mobileMoney)
        #expect(throws: FieldError.self) { try PaymentMethod(parsing: "bank") }
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("0912345678", "*******678"), ("carrier 0912 345 678 here", "carrier *******678 here"), ("001150000001", "*********001"),
        ("+84.912.345.678", "+********678"), ("26734", "26734"), ("2026-11-30", "2026-11-30"), ("AL-202611-000001-0000001", "AL-202611-000001-0000001"),
        ("12345678", "12345678"), ("ID 0011 5000 0001!", "ID *********001!"), ("", ""),
        // Two numbers side by side make one long run: each is masked, the separators stay.
        ("0912345678 0987654321", "*******678 *******321"), ("0320277805-001090012345", "*******805-*********345"),
        ("20261130 0912345678", "20261130 *******678"),
    ])
    func longDigitRunsAreMasked(text: String, redacted: String) {
        #expect(redactIdentifiers(text) == redacted)
    }

    @Test func valuesInTheWrongColumnAreMaskedInErrors() {
        let validator = RegisterValidator(categories: ["ORPHAN"], carriers: ["VIETTEL"], today: CalendarDate(year: 2026, month: 11, day: 30)!)
        var raw = RawRegisterFields()
        raw.nationalID = "001150000001"
        raw.fullName = "Nguyễn Thị Lan 0912345678"
        raw.dateOfBirth = "0912345678"
        raw.gender = "0912345678"
        raw.commune = "001150000001"
        raw.category = "0912345678"
        raw.paymentMethod = "0912345678"
        raw.carrier = "0912345678"
        raw.msisdn = "0912345678"
        guard case .failure(.invalid(let reasons)) = validator.validate(raw) else {
            Issue.record("expected a failure")
            return
        }
        let text = reasons.map(\.description).joined(separator: "\n")
        // The values a problem carries are masked already, so every language's words are too.
        let vietnamese = reasons.map(Wording.vietnamese.words(for:)).joined(separator: "\n")
        #expect(!vietnamese.contains("0912345678") && !vietnamese.contains("001150000001") && vietnamese.contains("*******678"))
        #expect(!text.contains("0912345678"))
        #expect(!text.contains("001150000001"))
        #expect(text.contains("*******678"))
        #expect(text.contains("full_name contains a number"))
        #expect(text.contains("commune_code \"*********001\" looks like a phone number or ID"))
    }
}

@Suite struct IdentifierInCodeTests {
    @Test(arguments: [
        ("TX-84320758950", "TX-********950"), ("0320758950/OK", "*******950/OK"), ("CCCD:049193383771", "CCCD:*********771"),
        ("VI202611000100000001", "VI202611000100000001"), ("VTM261130002", "VTM261130002"), ("E101", "E101"), ("+84912345678", "+********678"),
    ])
    func numbersInsideCodesAreMaskedAndOtherDigitsKept(code: String, redacted: String) {
        #expect(redactIdentifierRuns(code) == redacted)
    }

    @Test func aTextHoldsAnIdentifierWholeOrSpacedOut() {
        #expect(containsIdentifier("gọi 0912 345 678"))
        #expect(containsIdentifier("CCCD 001150000001"))
        #expect(!containsIdentifier("QĐ-202611/UBND"))
        #expect(!containsIdentifier("Entitlements of batch 1 for 2026-11"))
    }
}

@Suite struct StaticTextTests {
    /// The literals bound in place by the hot inserts spell exactly the raw values the schema's CHECKs and every
    /// query expect.
    @Test func everyStaticTextIsItsRawValue() {
        func check<T: RawRepresentable & StaticText & CaseIterable>(_ type: T.Type) where T.RawValue == String {
            for value in T.allCases { #expect(value.staticText.description == value.rawValue, "\(type)") }
        }
        check(ReconcileOutcome.self)
        check(CarrierStatus.self)
        check(ReconcileEffect.self)
        check(ItemState.self)
        check(LedgerAccount.self)
        check(Gender.self)
        check(PaymentMethod.self)
    }

    /// Outcome totals are kept in arrays by each outcome's place in `allCases`.
    @Test func everyOutcomeKnowsItsPlace() {
        #expect(ReconcileOutcome.allCases.map(\.ordinal) == Array(ReconcileOutcome.allCases.indices))
        #expect(CarrierStatus.allCases.map(\.ordinal) == Array(CarrierStatus.allCases.indices))
    }

    /// Fingerprints are stored with every result line and compared with later files' lines, so they never change: these
    /// values were computed outside Swift from the definition (FNV-1a 64 over the status's place plus one, the amount
    /// and number as little-endian 64-bit words, then the carrier transaction's UTF-8).
    @Test func resultLineFingerprintsStayAsStored() {
        #expect(resultLineFingerprint(status: nil, amount: nil, msisdn: 0, carrierTxnID: "") == 8_248_845_638_921_781_527)
        #expect(resultLineFingerprint(status: .paid, amount: 750_000, msisdn: 84_912_345_678, carrierTxnID: "T1") == -9_011_685_699_906_507_388)
        #expect(resultLineFingerprint(status: .failed, amount: 750_000, msisdn: 84_912_345_678, carrierTxnID: "T1") == 2_052_020_225_335_200_349)
        #expect(resultLineFingerprint(status: .pending, amount: 500_000, msisdn: 84_987_654_321, carrierTxnID: "VT-2026-0001")
                == 1_921_890_129_963_399_798)
        #expect(resultLineFingerprint(status: .reversed, amount: -1, msisdn: 0, carrierTxnID: "Hoàn tiền") == 8_142_719_964_102_265_175)
    }
}
