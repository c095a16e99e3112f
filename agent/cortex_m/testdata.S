/* The smoke test's inputs, embedded in flash: slot A (the image the device runs)
   and the patch a radio would deliver. Made once with the host tool; see README.md. */
  .section .testdata, "a"

  .balign 4
  .global updraft_testdata_old_image
updraft_testdata_old_image:
  .incbin "old.bin"
  .global updraft_testdata_old_image_end
updraft_testdata_old_image_end:

  .balign 4
  .global updraft_testdata_patch
updraft_testdata_patch:
  .incbin "patch.updp"
  .global updraft_testdata_patch_end
updraft_testdata_patch_end:
