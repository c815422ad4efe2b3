import ArgumentParser
import Foundation
import Loupe
import LoupeMedia

struct VideoBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "video",
        abstract: "Video frame sampling speed (frames scaled to a 224 short side), as a multiple of real time.",
        discussion: """
            With --make, first writes a 1080p30 H.264 test clip (a panning, grainy photo at about 10 Mbit/s). \
            Ends with `elapsed_s=W cpu_s=C realtime_x=X` (C: process CPU time, all decoder threads).
            """)

    @Option(name: .long, help: "The video to sample.")
    var file: String

    @Option(name: .long, help: "Write a 1080p H.264 clip of this many seconds to --file first.")
    var make: Int?

    @Option(name: .long, help: "Frames between keyframes when making the clip (phones write 30 to 60 at 30 fps).")
    var keyframeInterval = 60

    @Option(name: .long, help: "A picture (any format) to pan over when making the clip.")
    var source: String?

    @Option(name: .long, help: "Frames sampled per second of video.")
    var fps = 1.0

    @Flag(name: .long, help: "Decode every frame (no seeking or skipping), to measure what skipping saves.")
    var noSkip = false

    @Option(name: .long, help: "Seconds a keyframe may be from a target to stand in for it (0: exact frames).")
    var keyframeTolerance = 0.0

    @Option(name: .long, help: "Decoder threads (0: one per core), when one decoder reads the whole file.")
    var threads = 0

    @Option(name: .long, help: "Decoders sampling keyframe ranges side by side (0: one per core; 1: a single decoder).")
    var workers = 0

    func run() async throws {
        try await reportingErrors {
            let url = URL(fileURLWithPath: file)
            if let seconds = make { try makeClip(url, seconds: seconds) }
            var decoder = VideoDecoder()
            decoder.configuration.framesPerSecond = fps
            decoder.configuration.shortSide = 224
            decoder.configuration.threads = threads
            decoder.configuration.rangeWorkers = workers
            decoder.configuration.skipsUnneededFrames = !noSkip
            decoder.configuration.keyframeTolerance = keyframeTolerance
            let info = try decoder.probe(contentsOf: url)
            var count = 0
            var checksum: UInt64 = 0xCBF2_9CE4_8422_2325
            let cpuStart = ProcessCPUTime.seconds()
            let elapsed = try ContinuousClock().measure {
                try decoder.sample(contentsOf: url) { frame in
                    count += 1
                    // FNV-1a over the timestamps and pixels, to compare skipping modes on real files.
                    for byte in frame.pixels { checksum = (checksum ^ UInt64(byte)) &* 0x100_0000_01B3 }
                    checksum = (checksum ^ UInt64(bitPattern: Int64(frame.timestamp * 1000))) &* 0x100_0000_01B3
                    return true
                }
            }
            let duration = info.duration ?? 0
            print("file=\(file) codec=\(info.codec) size=\(info.width)x\(info.height) duration_s=\(String(format: "%.2f", duration)) frames=\(count) checksum=\(String(checksum, radix: 16))")
            let cpu = ProcessCPUTime.seconds() - cpuStart
            print("elapsed_s=\(String(format: "%.3f", elapsed.seconds)) cpu_s=\(String(format: "%.3f", cpu)) realtime_x=\(String(format: "%.1f", duration / elapsed.seconds))")
        }
    }

    /// A 1920x1080 30 fps clip panning across a photo with fresh grain in every frame.
    private func makeClip(_ url: URL, seconds: Int) throws {
        let (width, height) = (1920, 1080)
        var base: DecodedImage
        if let source {
            base = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: source))
        } else {
            var pixels = [UInt8](repeating: 0, count: 2400 * 1400 * 3)
            for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: (i / 3 % 2400) ^ (i / 7200)) }
            base = DecodedImage(width: 2400, height: 1400, pixels: pixels, metadata: ImageMetadata(format: .png, storedWidth: 2400, storedHeight: 1400))
        }
        base = try ImageResizer.resize(base, width: 2400, height: 2400 * base.height / base.width < 1200 ? 1200 : 2400 * base.height / base.width)
        var configuration = VideoWriter.Configuration()
        configuration.bitRate = 10_000_000
        configuration.keyframeInterval = keyframeInterval
        configuration.options = ["preset": "veryfast"]
        let writer = try VideoWriter(url: url, width: width, height: height, framesPerSecond: 30, configuration: configuration)
        var generator = SplitMix64(seed: 7)
        var frame = [UInt8](repeating: 0, count: width * height * 3)
        for index in 0..<(seconds * 30) {
            let offsetX = (index * 3) % (base.width - width)
            let offsetY = (index / 2) % (base.height - height)
            for y in 0..<height {
                let source = ((offsetY + y) * base.width + offsetX) * 3
                frame.replaceSubrange((y * width * 3)..<((y + 1) * width * 3), with: base.pixels[source..<(source + width * 3)])
            }
            for _ in 0..<20_000 {
                let i = Int(generator.next() % UInt64(frame.count))
                frame[i] = UInt8(truncatingIfNeeded: generator.next())
            }
            try writer.append(pixels: frame)
        }
        try writer.finish()
    }
}
