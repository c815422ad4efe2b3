/* Writes a small YCCK JPEG (Adobe APP14 transform 2), which neither Pillow nor FFmpeg can encode.
 * Built and run by make_media_fixtures.py:  cc tools/make_ycck_jpeg.c -ljpeg -o /tmp/ycck && /tmp/ycck OUT.jpg
 * The CMYK samples follow the same pattern as cmyk.jpg (before Adobe's inversion). */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
    enum { W = 16, H = 12 };
    if (argc != 2) { fprintf(stderr, "usage: %s OUT.jpg\n", argv[0]); return 2; }
    FILE *out = fopen(argv[1], "wb");
    if (!out) { perror(argv[1]); return 1; }
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, out);
    cinfo.image_width = W;
    cinfo.image_height = H;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, JCS_YCCK);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    unsigned char row[W * 4];
    while (cinfo.next_scanline < H) {
        int y = (int)cinfo.next_scanline;
        for (int x = 0; x < W; x++) {
            /* Adobe files store inverted CMYK: 255 - ink. */
            row[4 * x] = (unsigned char)(255 - x * 16);
            row[4 * x + 1] = (unsigned char)(255 - y * 20);
            row[4 * x + 2] = (unsigned char)(255 - (x + y) * 8);
            row[4 * x + 3] = (unsigned char)(255 - (x * y) % 200);
        }
        JSAMPROW pointer = row;
        jpeg_write_scanlines(&cinfo, &pointer, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(out);
    return 0;
}
