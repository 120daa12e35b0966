/* SPDX-License-Identifier: Apache-2.0 */
/* imageio.h - picture decoding (PNG, JPEG, BMP, PNM) to BGR pixels and PNG/BMP encoding. */
#ifndef TCD_IMAGEIO_H
#define TCD_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded picture: 8-bit BGR, rows of stride bytes (width * 3). */
struct tcd_image {
	uint8_t *bgr; /* owned; wiped by tcd_image_free */
	int width, height;
	size_t stride;
};

/* Decodes a PNG (libpng), JPEG (libjpeg-turbo), BMP (uncompressed, or bit
 * fields) or binary PNM (P5/P6, maxval 255) picture, recognised by its first
 * bytes, into *out (caller frees with tcd_image_free). PNG and JPEG get the
 * transformations OpenCV's decoders apply for a colour image (16-bit
 * channels stripped, alpha dropped, palette and grey expanded, CMYK
 * converted). Callers check the size from the header first
 * (tcd_image_size). Returns TCD_OK, TCD_ERR_NOT_IMAGE (reason in err) or
 * TCD_ERR_NOMEM. */
int tcd_image_decode(const uint8_t *data, size_t size, struct tcd_image *out, char *err,
                     size_t errsize);
/* Encodes img as ".png" (8-bit RGB, compression level 1) or ".bmp" (24-bit)
 * into *out (malloc; caller wipes and frees). Returns TCD_OK,
 * TCD_ERR_INVALID for another extension, TCD_ERR_NOMEM or
 * TCD_ERR_BACKEND (reason in err). */
int tcd_image_encode(const struct tcd_image *img, const char *ext, uint8_t **out, size_t *size,
                     char *err, size_t errsize);
/* Wipes and frees the pixels of img and zeroes it (NULL-safe). */
void tcd_image_free(struct tcd_image *img);

#ifdef __cplusplus
}
#endif
#endif /* TCD_IMAGEIO_H */
