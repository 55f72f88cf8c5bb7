import SondaAgent
import Testing

/// The fault-injection clock offset is honoured only with the test flag, so a stray variable on a
/// host never shifts a real agent's clock.
@Suite struct TestFaultsTests {
    @Test(
        arguments: [
            (["SONDA_TEST_FAULTS": "1", "SONDA_TEST_CLOCK_OFFSET_SECONDS": "600"], Duration.seconds(600)),
            (["SONDA_TEST_FAULTS": "1", "SONDA_TEST_CLOCK_OFFSET_SECONDS": "-600"], Duration.seconds(-600)),
            (["SONDA_TEST_CLOCK_OFFSET_SECONDS": "600"], nil),
            (["SONDA_TEST_FAULTS": "0", "SONDA_TEST_CLOCK_OFFSET_SECONDS": "600"], nil),
            (["SONDA_TEST_FAULTS": "1", "SONDA_TEST_CLOCK_OFFSET_SECONDS": "10m"], nil),
            (["SONDA_TEST_FAULTS": "1"], nil),
        ] as [([String: String], Duration?)])
    func clockOffsetNeedsTheTestFlag(environment: [String: String], offset: Duration?) {
        #expect(TestFaults.clockOffset(environment) == offset)
    }
}
