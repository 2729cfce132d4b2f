"""A dialogue's after-life: the summary, who is told when it is out, the feedback survey."""
