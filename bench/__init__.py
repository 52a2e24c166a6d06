"""`make bench`: the portal's speed at company scale, each figure beside a floor from the same run."""
