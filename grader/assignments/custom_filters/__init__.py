"""The custom_filters assignment: edge-detection, blur and high-pass kernels with OpenCV, and a 2-D convolution."""

EXPORTED_NAMES = ("gray", "sobel_x", "filtered_x", "blur_kernel", "blurred_edges", "high_pass_5x5")
