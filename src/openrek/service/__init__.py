"""Operations: one provider per AWS service, AWS semantics only, no HTTP."""
