"""Each technology's default design, with no imports: the CLI's help text reads it at start-up.

`hardware.space.DEFAULT_VALUES` with the technology's fixed values (SRAM: one bit per cell),
feasible on the four study networks and ViT with no partial-sum bit lost; `imcopt evaluate`
starts from it, and name=value pairs change it (`imcopt.api.default_design`). A test checks
these keys against DEFAULT_VALUES.
"""

DEFAULT_DESIGNS = {"rram": "A_0.7_2_2e-09_512_512_8_16_32_16384",
                   "sram": "A_0.7_1_2e-09_512_512_8_16_32_16384"}
