import Foundation
import Testing
@testable import LoupeMedia

/// Times and rates from requests reach the sampler's arithmetic: out-of-range values are refused with a
/// clear error or sample nothing, never trap (issue 19, row 1: `start` 1e15 and 1e300 killed the process).
@Suite struct VideoArithmeticTests {
    static let directory = try! TestMedia.temporaryDirectory()
    static let video = try! TestVideo.write(to: directory, name: "arithmetic.mp4")

    func frames(start: Double = 0, fps: Double = 1, tolerance: Double = 0) throws -> [VideoFrame] {
        var decoder = VideoDecoder()
        decoder.configuration.startTime = start
        decoder.configuration.framesPerSecond = fps
        decoder.configuration.keyframeTolerance = tolerance
        return try decoder.sampleFrames(contentsOf: Self.video)
    }

    @Test func startTimesPastTheEndSampleNothing() throws {
        #expect(try frames(start: 1e6).isEmpty)
        #expect(try frames(start: 1e9).isEmpty)
    }

    @Test func absurdStartTimesAreRefusedByName() throws {
        for start in [1e15, 1e300, .infinity, -.infinity, .nan, -1] {
            #expect {
                _ = try frames(start: start)
            } throws: { error in
                guard let error = error as? MediaError else { return false }
                return error.code == .invalidArgument && error.message.contains("start time")
            }
        }
    }

    @Test func absurdRatesAndTolerancesAreRefused() throws {
        for fps in [0, -1, .infinity, .nan, 1e300, 2e300] {
            #expect(throws: MediaError.self) { _ = try frames(fps: fps) }
        }
        for tolerance in [.infinity, .nan, -1, 1e300] {
            #expect(throws: MediaError.self) { _ = try frames(tolerance: tolerance) }
        }
    }

    @Test func ordinaryValuesStillWork() throws {
        #expect(try !frames(start: 0.5, fps: 2).isEmpty)
        #expect(try !frames(fps: 1000).isEmpty)
    }

    @Test func saturatingConversionsNeverTrap() {
        #expect(CheckedArithmetic.saturatingInt64(1e300) == .max)
        #expect(CheckedArithmetic.saturatingInt64(-1e300) == .min)
        #expect(CheckedArithmetic.saturatingInt64(.nan) == 0)
        #expect(CheckedArithmetic.saturatingInt64(-2.5) == -3)
        #expect(CheckedArithmetic.floorInt(.infinity) == nil)
        #expect(CheckedArithmetic.floorInt(41.9) == 41)
        #expect(CheckedArithmetic.add(.max, 1) == .max)
        #expect(CheckedArithmetic.subtract(.min, 1) == .min)
        #expect(CheckedArithmetic.subtract(0, .min) == .max)
    }
}
