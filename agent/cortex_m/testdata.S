/* The smoke test's inputs, embedded in flash: slot A (the image the device runs),
   the patch a radio would deliver, the release manifest that describes it (signed
   with ECDSA P-256) and the release public key the device trusts (65 bytes, 0x04 ||
   X || Y). Then a Cortex-M image and a patch with relocation prediction for it
   (built by bench/alios_case.py). Made once with the host tool; see README.md. */
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

  .balign 4
  .global updraft_testdata_manifest
updraft_testdata_manifest:
  .incbin "release.manifest"
  .global updraft_testdata_manifest_end
updraft_testdata_manifest_end:

  .balign 4
  .global updraft_testdata_release_key
updraft_testdata_release_key:
  .incbin "release_public_key.bin"
  .global updraft_testdata_release_key_end
updraft_testdata_release_key_end:

  .balign 4
  .global updraft_testdata_thumb2_old_image
updraft_testdata_thumb2_old_image:
  .incbin "thumb2_old.bin"
  .global updraft_testdata_thumb2_old_image_end
updraft_testdata_thumb2_old_image_end:

  .balign 4
  .global updraft_testdata_thumb2_patch
updraft_testdata_thumb2_patch:
  .incbin "thumb2_patch.updp"
  .global updraft_testdata_thumb2_patch_end
updraft_testdata_thumb2_patch_end:
