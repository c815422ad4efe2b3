import CFFmpeg
import Foundation
import Testing

@testable import LoupeMedia

@Suite(.serialized)
struct VideoDecoderTests {
    static let directory = try! TestMedia.temporaryDirectory()
    static let video = try! TestVideo.write(to: directory)
    /// B-frames (x264 "fast") and a keyframe every 20 frames, so stretches start mid-stream at reordered frames.
    static let reordered = try! TestVideo.write(to: directory, name: "reordered.mp4", preset: "fast", keyframeInterval: 20)

    @Test("probe reports size, codec, frame rate, duration, frame count and creation time")
    func probe() throws {
        let info = try VideoDecoder().probe(contentsOf: Self.video)
        #expect([info.width, info.height, info.rotation] as [Int] == [160, 96, 0])
        #expect(["h264", "mpeg4"].contains(info.codec))
        #expect(abs((info.frameRate ?? 0) - 30) < 0.01)
        #expect(abs((info.duration ?? 0) - TestVideo.duration) < 0.01, "duration \(String(describing: info.duration))")
        #expect(info.creationTime == TestVideo.creationTime)
        #expect(info.frameCount == 180)
    }

    @Test("1 fps sampling returns a frame per second, each within one frame of its timestamp")
    func sampling() throws {
        let frames = try VideoDecoder().sampleFrames(contentsOf: Self.video)
        #expect(frames.map { Int($0.timestamp.rounded()) } == [0, 1, 2, 3, 4, 5])
        for frame in frames {
            #expect(abs(frame.timestamp - frame.timestamp.rounded()) <= 1.0 / 30 + 1e-6)
            // The picture shown is the one for that time (index read back from the grey bar).
            let truth = Int((frame.timestamp * 30).rounded()) % 64
            #expect(abs(TestVideo.index(in: frame) - truth) <= 1, "frame at \(frame.timestamp) shows index \(TestVideo.index(in: frame))")
        }
    }

    @Test("sampling without skipping decodes the same frames", arguments: [1.0, 2.0, 3.0, 7.0])
    func skippingIsInvisible(framesPerSecond: Double) throws {
        // Also on a clip with B-frames, where skipping non-reference frames and draining the decoder early
        // must still hand over exactly the frames (and pixels) a full decode picks.
        for url in [Self.video, Self.reordered] {
            try expectSkippingInvisible(url, framesPerSecond: framesPerSecond)
        }
    }

    @Test("sampling at a multiple of a rate contains that rate's frames, told apart by their sample indices")
    func multipleRates() throws {
        for url in [Self.video, Self.reordered] {
            for workers in [1, 2] {
                var decoder = VideoDecoder()
                decoder.configuration.rangeWorkers = workers
                let once = try decoder.sampleFrames(contentsOf: url)
                #expect(once.map(\.samples) == (0..<once.count).map { $0..<($0 + 1) })
                decoder.configuration.framesPerSecond = 5
                let five = try decoder.sampleFrames(contentsOf: url)
                #expect(five.count == 30 && zip(five, five.dropFirst()).allSatisfy { $0.samples.upperBound == $1.samples.lowerBound })
                let picked = five.filter { frame in frame.samples.contains { $0 % 5 == 0 } }
                expectSameFrames(picked, once, "\(url.lastPathComponent), \(workers) decoder(s)")
            }
        }
        // A rate above the video's own: one frame stands for several sampling times. (One decoder: at 60 fps
        // sampling times fall exactly on half-frame boundaries, where side-by-side decoders may each count one.)
        var fast = VideoDecoder()
        fast.configuration.framesPerSecond = 60
        fast.configuration.rangeWorkers = 1
        let frames = try fast.sampleFrames(contentsOf: Self.video)
        #expect(frames.count == 180 && frames.first?.samples.lowerBound == 0 && frames.allSatisfy { !$0.samples.isEmpty })
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.samples.upperBound == $1.samples.lowerBound })
        #expect((frames.last?.samples.upperBound ?? 0) >= 359, "\(frames.suffix(2).map(\.samples))")
    }

    @Test("a frame showing a fraction of a tick before a sample's earliest time neither hides the sample nor settles it")
    func skipRulesCompareInSeconds() throws {
        let decoder = VideoDecoder()
        let input = try decoder.open(Self.video)
        let stream = try decoder.videoStream(input)
        var configuration = VideoDecoder.Configuration()
        configuration.framesPerSecond = 7
        var sampler = FrameSampler(info: try decoder.probe(contentsOf: Self.video), stream: stream,
                                   configuration: configuration, path: Self.video.path)
        sampler.begin(at: 0.12)  // the target 1/7 s: its earliest time falls between two ticks
        let boundary = sampler.timestamp(sampler.earliest)
        #expect(sampler.seconds(boundary) < sampler.earliest, "the test needs an earliest time between ticks")

        func packet(pts: Int64, dts: Int64) throws -> Packet {
            let packet = try Packet()
            packet.pointer.pointee.pts = pts
            packet.pointer.pointee.dts = dts
            return packet
        }
        var planner = SkipPlanner(stream: stream, tolerance: 0)
        let early = try packet(pts: boundary, dts: boundary - 600)
        planner.read(early)
        planner.sent(early, discard: AVDISCARD_DEFAULT, sampler: sampler)
        // The sample is the next frame to show; the one on the boundary tick shows too early to count.
        let next = try packet(pts: boundary + 512, dts: boundary - 500)
        #expect(planner.discard(next, sampler: sampler) == AVDISCARD_DEFAULT)
        #expect(planner.settled(by: try packet(pts: boundary + 2000, dts: boundary + 1), sampler: sampler) == nil)
        // Once that frame is sent, a packet decoding after it proves it is the sample.
        planner.read(next)
        planner.sent(next, discard: AVDISCARD_DEFAULT, sampler: sampler)
        let proof = try packet(pts: boundary + 2000, dts: boundary + 512)
        #expect(planner.settled(by: proof, sampler: sampler) == sampler.seconds(boundary + 512))
        #expect(planner.discard(try packet(pts: boundary + 700, dts: boundary - 400), sampler: sampler) == AVDISCARD_NONREF)
        // A packet that shows before it decodes ends the reasoning.
        planner.read(try packet(pts: boundary, dts: boundary + 600))
        #expect(planner.settled(by: proof, sampler: sampler) == nil)
    }

    @Test("with a keyframe tolerance, nearby keyframes stand in for targets and keep truthful timestamps")
    func keyframeTolerance() throws {
        var decoder = VideoDecoder()
        decoder.configuration.keyframeTolerance = 0.5
        let frames = try decoder.sampleFrames(contentsOf: Self.video)
        #expect(frames.count == 6, "timestamps \(frames.map(\.timestamp))")
        for (target, frame) in frames.enumerated() {
            #expect(abs(frame.timestamp - Double(target)) <= 0.5 + 3.0 / 30, "target \(target) got \(frame.timestamp)")
            let truth = Int((frame.timestamp * 30).rounded()) % 64
            #expect(abs(TestVideo.index(in: frame) - truth) <= 1, "frame at \(frame.timestamp) shows \(TestVideo.index(in: frame))")
        }
        // Keyframes every 1.5 s: the targets at 0, 1.5-adjacent seconds are served by keyframes.
        #expect(frames.filter { abs($0.timestamp * 30 - ($0.timestamp * 30 / 45).rounded() * 45) < 0.5 }.count >= 3)
    }

    @Test(
        "decoders sampling keyframe ranges side by side return a single decoder's frames",
        arguments: [(1.0, 0.0), (4.0, 0.0), (1.0, 0.5), (3.0, 0.5)])
    func rangesInParallel(framesPerSecond: Double, tolerance: Double) throws {
        for url in [Self.video, Self.reordered] {
            var decoder = VideoDecoder()
            decoder.configuration.framesPerSecond = framesPerSecond
            decoder.configuration.keyframeTolerance = tolerance
            decoder.configuration.rangeWorkers = 1
            let single = try decoder.sampleFrames(contentsOf: url)
            decoder.configuration.rangeWorkers = 2

            let input = try decoder.open(url)
            let stream = try decoder.videoStream(input)
            let ranges = KeyframeRanges.plan(input, stream: stream, info: try decoder.probe(contentsOf: url),
                                             configuration: decoder.configuration, workers: 2)
            #expect((ranges?.count ?? 0) >= 2, "\(url.lastPathComponent) is cut into \(ranges?.count ?? 0) ranges")

            let parallel = try decoder.sampleFrames(contentsOf: url)
            if tolerance == 0 {
                expectSameFrames(parallel, single, url.lastPathComponent)
            }
            // With a tolerance, a range's keyframe stands in for targets up to the tolerance before it, while a
            // single decoder may also have used a keyframe further back; every target must be served either way.
            #expect(zip(parallel, parallel.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp })
            let slack = tolerance + 3.0 / 30 + 1e-6
            for step in 0..<Int(TestVideo.duration * framesPerSecond) {
                let target = Double(step) / framesPerSecond
                #expect(parallel.contains { abs($0.timestamp - target) <= slack }, "\(url.lastPathComponent): nothing near \(target)")
            }
            for frame in parallel {
                let truth = Int((frame.timestamp * 30).rounded()) % 64
                #expect(abs(TestVideo.index(in: frame) - truth) <= 1, "frame at \(frame.timestamp) shows \(TestVideo.index(in: frame))")
            }
        }
    }

    @Test("open groups of pictures: the stretch before reads on through their leading frames", arguments: [1.0, 3.0, 4.0, 30.0])
    func openGOP(framesPerSecond: Double) throws {
        // Non-IDR keyframes whose leading B-frames show before them and refer to the group before.
        let open = try TestVideo.write(to: Self.directory, name: "open-gop.mp4", preset: "fast", keyframeInterval: 20,
                                       x264Params: "open-gop=1")
        var decoder = VideoDecoder()
        decoder.configuration.framesPerSecond = framesPerSecond
        let input = try decoder.open(open)
        let ranges = try #require(KeyframeRanges.plan(input, stream: try decoder.videoStream(input),
                                                     info: try decoder.probe(contentsOf: open),
                                                     configuration: decoder.configuration, workers: 2))
        // (x264 still starts closed groups at scene cuts; at 30 fps every leading frame must come out.)
        #expect(ranges.count >= 3 && ranges.contains(where: \.endsOpen), "\(ranges.map(\.endsOpen))")

        try expectSkippingInvisible(open, framesPerSecond: framesPerSecond)
    }

    @Test("after an unusable stretch plan, one decoder still starts at the beginning")
    func fallbackStartsAtBeginning() throws {
        // AVI keeps no presentation times for reordered frames: the keyframe checks fail after seeking.
        let avi = try TestVideo.write(to: Self.directory, name: "reordered.avi", preset: "fast", keyframeInterval: 20)
        var decoder = VideoDecoder()
        let input = try decoder.open(avi)
        let plan = KeyframeRanges.plan(input, stream: try decoder.videoStream(input), info: try decoder.probe(contentsOf: avi),
                                       configuration: decoder.configuration, workers: 2)
        decoder.configuration.rangeWorkers = 1
        let single = try decoder.sampleFrames(contentsOf: avi)
        decoder.configuration.rangeWorkers = 2
        let frames = try decoder.sampleFrames(contentsOf: avi)
        #expect(plan == nil && single.count == 6, "plan: \(String(describing: plan?.count)) ranges, \(single.count) frames")
        #expect(frames.map(\.timestamp) == single.map(\.timestamp))
    }

    @Test("sampling from a start time seeks there and gives the frames a whole pass gives from then on")
    func startTime() throws {
        for url in [Self.video, Self.reordered] {
            var decoder = VideoDecoder()
            decoder.configuration.framesPerSecond = 2
            let whole = try decoder.sampleFrames(contentsOf: url)
            decoder.configuration.startTime = 3.2
            let late = try decoder.sampleFrames(contentsOf: url)
            let expected = whole.filter { $0.samples.lowerBound >= 7 }
            expectSameFrames(late, expected, url.lastPathComponent)
            #expect(late.map(\.samples) == expected.map(\.samples))
        }
    }

    @Test("sampling at the frame rate returns every frame, the last one included")
    func everyFrame() throws {
        var decoder = VideoDecoder()
        decoder.configuration.framesPerSecond = 30
        for workers in [1, 2] {
            decoder.configuration.rangeWorkers = workers
            let frames = try decoder.sampleFrames(contentsOf: Self.video)
            #expect(frames.count == 180, "\(workers) decoder(s): \(frames.count) frames")
            #expect(abs((frames.last?.timestamp ?? 0) - 179.0 / 30) < 1e-6)
        }
    }

    @Test("stopping early ends side-by-side decoders too")
    func rangesStopEarly() throws {
        var decoder = VideoDecoder()
        decoder.configuration.rangeWorkers = 2
        var seen: [Double] = []
        try decoder.sample(contentsOf: Self.video) { frame in
            seen.append(frame.timestamp)
            return seen.count < 4
        }
        #expect(seen.map { Int($0.rounded()) } == [0, 1, 2, 3])
    }

    @Test("frames are scaled in FFmpeg to the requested short side")
    func scaled() throws {
        var decoder = VideoDecoder()
        decoder.configuration.shortSide = 48
        let frames = try decoder.sampleFrames(contentsOf: Self.video)
        #expect(frames.allSatisfy { $0.width == 80 && $0.height == 48 })
    }

    @Test("scene cuts are found within half a second")
    func sceneCuts() throws {
        let cuts = try VideoDecoder().sceneCuts(contentsOf: Self.video)
        #expect(cuts.count == TestVideo.cuts.count, "cuts: \(cuts)")
        for (found, truth) in zip(cuts, TestVideo.cuts) { #expect(abs(found - truth) <= 0.5, "cut \(found) vs \(truth)") }
    }

    @Test("a rotated phone video comes out upright", arguments: [90, 180, 270])
    func rotation(_ degrees: Int) throws {
        let url = try TestVideo.write(to: Self.directory, name: "rotated-\(degrees).mp4", rotation: degrees)
        let info = try VideoDecoder().probe(contentsOf: url)
        #expect(info.rotation == degrees)
        let frame = try #require(try VideoDecoder().sampleFrames(contentsOf: url).first)
        let stored = TestVideo.frame(0, width: 160, height: 96)
        let orientation = [90: 6, 180: 3, 270: 8][degrees]!
        let expected = Orientation.apply(orientation, pixels: stored, width: 160, height: 96)
        #expect([frame.width, frame.height] as [Int] == [expected.width, expected.height])
        #expect(TestMedia.difference(frame.pixels, expected.pixels).mean < 4)
    }

    @Test("colours come back right whether the stream is tagged BT.601 or BT.709", arguments: [false, true])
    func colorimetry(bt709: Bool) throws {
        let url = try TestVideo.write(to: Self.directory, name: "colour-\(bt709).mp4", bt709: bt709)
        let frame = try #require(try VideoDecoder().sampleFrames(contentsOf: url).first)
        // A pixel of the first scene's colour, below the bar and left of the moving square.
        let i = ((frame.height - 8) * frame.width + 4) * 3
        let pixel = frame.pixels[i..<(i + 3)].map(Int.init)
        let expected = TestVideo.sceneColors[0]
        let error = zip(pixel, [Int(expected.0), Int(expected.1), Int(expected.2)]).map { abs($0 - $1) }.max()!
        #expect(error <= 4, "decoded \(pixel) for \(expected)")
    }

    @Test("the pixel limit applies to video frames too")
    func pixelLimit() throws {
        var decoder = VideoDecoder()
        decoder.configuration.maxPixels = 160 * 96 - 1
        let error = try #require(throws: MediaError.self) { try decoder.sampleFrames(contentsOf: Self.video) }
        #expect(error.code == .tooManyPixels && error.path == Self.video.path)
    }

    @Test("returning false from the body stops sampling")
    func stopsEarly() throws {
        var seen: [Double] = []
        try VideoDecoder().sample(contentsOf: Self.video) { frame in
            seen.append(frame.timestamp)
            return seen.count < 3
        }
        #expect(seen.count == 3 && abs(seen[2] - 2) < 0.05)
    }

    @Test("files that are not videos give clear errors")
    func errors() throws {
        let text = Self.directory.appendingPathComponent("notes.mp4")
        try Data("just some text, not a movie".utf8).write(to: text)
        let error = try #require(throws: MediaError.self) { try VideoDecoder().probe(contentsOf: text) }
        #expect(error.path == text.path)
        let empty = Self.directory.appendingPathComponent("empty.mp4")
        try Data().write(to: empty)
        #expect(throws: MediaError.self) { try VideoDecoder().probe(contentsOf: empty) }
        let emptyError = try #require(throws: MediaError.self) { try VideoDecoder().probe(contentsOf: empty) }
        #expect(emptyError.code == .emptyFile)
    }

    @Test("a truncated Matroska video still yields the frames before the cut")
    func truncated() throws {
        // Matroska keeps no index that decoding needs, so the first half of the file plays.
        let full = try TestVideo.write(to: Self.directory, name: "whole.mkv")
        let data = try Data(contentsOf: full)
        let url = Self.directory.appendingPathComponent("truncated.mkv")
        try data.prefix(data.count / 2).write(to: url)
        let frames = try VideoDecoder().sampleFrames(contentsOf: url)
        #expect((2...5).contains(frames.count), "\(frames.count) frames from half a 6-second video")
        #expect(frames.map { Int($0.timestamp.rounded()) } == Array(0..<frames.count))
    }

    @Test("damaged videos never crash and errors name the file", arguments: 0..<24)
    func hostile(seed: Int) throws {
        var data = try Data(contentsOf: Self.video)
        var state = UInt64(seed + 1) &* 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(data.count))
        }
        for _ in 0..<(seed % 12 + 1) * 20 { data[next()] = UInt8(truncatingIfNeeded: next()) }
        let url = Self.directory.appendingPathComponent("damaged-\(seed).mp4")
        try data.write(to: url)
        var decoder = VideoDecoder()
        decoder.configuration.keyframeTolerance = seed % 2 == 0 ? 0 : 0.5
        decoder.configuration.framesPerSecond = seed % 3 == 0 ? 1 : 4
        do {
            let frames = try decoder.sampleFrames(contentsOf: url)
            #expect(frames.allSatisfy { $0.pixels.count == $0.width * $0.height * 3 })
        } catch let error as MediaError {
            #expect(error.path == url.path)
        }
    }
}

/// Expects sampling with skipping, by one decoder and by two side by side, to give exactly the frames of a
/// full decode (one per sampling time of the test clip).
func expectSkippingInvisible(_ url: URL, framesPerSecond: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var decoder = VideoDecoder()
    decoder.configuration.framesPerSecond = framesPerSecond
    decoder.configuration.skipsUnneededFrames = false
    decoder.configuration.rangeWorkers = 1
    let full = try decoder.sampleFrames(contentsOf: url)
    #expect(full.count == Int(TestVideo.duration * framesPerSecond), "\(url.lastPathComponent): \(full.count) frames",
            sourceLocation: sourceLocation)
    decoder.configuration.skipsUnneededFrames = true
    for workers in [1, 2] {
        decoder.configuration.rangeWorkers = workers
        let sampled = try decoder.sampleFrames(contentsOf: url)
        expectSameFrames(sampled, full, "\(url.lastPathComponent), \(workers) decoder(s)", sourceLocation: sourceLocation)
    }
}

/// Expects the same frames: timestamps, then pixels (compared whole, so a failure does not print them).
func expectSameFrames(_ actual: [VideoFrame], _ expected: [VideoFrame], _ context: String,
                      sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.map(\.timestamp) == expected.map(\.timestamp), "\(context)", sourceLocation: sourceLocation)
    let samePixels = actual.map(\.pixels) == expected.map(\.pixels)
    #expect(samePixels, "\(context): pixels differ", sourceLocation: sourceLocation)
}
