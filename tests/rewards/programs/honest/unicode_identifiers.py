def matmul(A, B):
    """Noms accentués et lettres grecques : du Python valide."""
    résultat = []
    for ligne in A:
        nouvelle = []
        for j in range(len(B[0])):
            σ = 0.0
            for k, α in enumerate(ligne):
                σ += α * B[k][j]
            nouvelle.append(σ)
        résultat.append(nouvelle)
    return résultat
