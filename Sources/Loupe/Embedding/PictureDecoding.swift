import Foundation
import LoupeMedia

/// How pictures an embedder will look at are decoded, for the media library and tables alike: one decoder
/// setting (pixel limit; JPEGs at reduced size while they stay at least the model's input) and one
/// admission rule (the decode's memory, from the header, waits in the process's `DecodeBudget` before a
/// CPU slot is taken). Pictures arriving from searches, uploads, URLs, table rows and indexing therefore
/// share one budget, and a query by an indexed file decodes exactly as it was indexed.
struct PictureDecoding: Sendable {
    var maxPixels: Int
    var fastJPEGDecoding: Bool
    var budget: DecodeBudget
    var executor: ComputeExecutor

    /// The decoder for a model whose input is `inputSize` pixels square (nil: full size).
    func decoder(inputSize: Int?) -> ImageDecoder {
        var decoder = ImageDecoder()
        decoder.configuration.maxPixels = maxPixels
        if fastJPEGDecoding, let side = inputSize { decoder.configuration.minimumShortSide = side }
        return decoder
    }

    /// Decodes `data` (named `path` in errors) with `decoder` on a CPU slot of `lane` once its memory fits
    /// in the budget, then runs `finish` on the decoded picture in the same slot. The wait holds no slot.
    func decode<T: Sendable>(
        _ data: Data, path: String, with decoder: ImageDecoder, lane: ComputeExecutor.Lane = ComputeExecutor.lane,
        _ finish: @escaping @Sendable (DecodedImage) throws -> T
    ) async throws -> T {
        try await budget.withReservation(bytes: ImageDecoder.decodingCost(of: data)) {
            try await executor.run(.cpu, lane: lane) { try finish(try decoder.decode(data, path: path)) }
        }
    }
}
