import SpecPasses
